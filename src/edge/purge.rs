//! Purges by tag at every configured edge.
//!
//! The change feed calls [`EdgePurger::purge`] right after it bumped a
//! batch's tags, and forgets the batch's change-log rows only once every
//! edge acknowledged (a 2xx): a purge that fails, or a folio that dies
//! before it, leaves the rows, and the next drain (by any instance, at the
//! latest 2 s later or at the next start) purges again (the feed does not
//! bump what it already bumped: see `changes`). A purge is harmless twice.
//!
//! A request that read the old data before the bump may answer after the
//! purge, and an edge would keep that answer: so each purge is sent once
//! more [`REPURGE_AFTER`] later (best effort, failures counted).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use super::{EdgeSettings, KeyHeader};
use crate::cache::Tag;

/// How long an edge may take to answer a purge.
pub(crate) const PURGE_TIMEOUT: Duration = Duration::from_secs(2);
/// Longer than any request that read the data before the bump takes to be
/// answered (the header and body deadlines bound what the client sends;
/// computing a page takes milliseconds).
pub(crate) const REPURGE_AFTER: Duration = Duration::from_secs(2);
/// Keys per purge request are cut to fit this (Varnish refuses request
/// headers over 8 KiB by default).
pub(crate) const MAX_KEY_HEADER_BYTES: usize = 4000;

#[derive(Debug, thiserror::Error)]
pub enum PurgeError {
    #[error("{failed} of {edges} edges did not acknowledge the purge: {first}")]
    Unacknowledged {
        failed: usize,
        edges: usize,
        first: String,
    },
}

#[derive(Clone)]
pub struct EdgePurger {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    urls: Vec<String>,
    header: KeyHeader,
    /// Purge requests sent, and those not acknowledged.
    requests: AtomicU64,
    failures: AtomicU64,
    late_failures: AtomicU64,
}

impl EdgePurger {
    /// A purger for the configured edges; `None` without any.
    pub fn new(settings: &EdgeSettings) -> Option<Self> {
        if !settings.purged() {
            return None;
        }
        let client = reqwest::Client::builder()
            .timeout(PURGE_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client without TLS settings builds");
        Some(Self {
            inner: Arc::new(Inner {
                client,
                urls: settings.purge_urls.0.clone(),
                header: settings.key_header,
                requests: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                late_failures: AtomicU64::new(0),
            }),
        })
    }

    /// Purges `tags` at every edge; `Ok` once every edge acknowledged.
    pub async fn purge(&self, tags: &[Tag]) -> Result<(), PurgeError> {
        let chunks = self.key_chunks(tags);
        let sends = self
            .inner
            .urls
            .iter()
            .flat_map(|url| chunks.iter().map(move |keys| self.send(url, keys)));
        let results = join_all(sends).await;
        let failed: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        if failed.is_empty() {
            return Ok(());
        }
        self.inner
            .failures
            .fetch_add(failed.len() as u64, Ordering::Relaxed);
        Err(PurgeError::Unacknowledged {
            failed: failed.len(),
            edges: self.inner.urls.len(),
            first: failed[0].clone(),
        })
    }

    /// Purges `tags` once more after [`REPURGE_AFTER`], for answers that
    /// were on their way during the first purge.
    pub(crate) fn purge_again_later(&self, tags: Vec<Tag>) {
        let purger = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(REPURGE_AFTER).await;
            if let Err(e) = purger.purge(&tags).await {
                purger.inner.late_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, "edge: the second purge failed; pages on their way during the first may stay until their s-maxage");
            }
        });
    }

    fn key_chunks(&self, tags: &[Tag]) -> Vec<String> {
        let header = self.inner.header;
        let mut chunks = Vec::new();
        let mut current: Vec<String> = Vec::new();
        let mut len = 0;
        for tag in tags {
            let key = tag.to_string();
            if len + key.len() + 1 > MAX_KEY_HEADER_BYTES && !current.is_empty() {
                chunks.push(header.join(current.drain(..)));
                len = 0;
            }
            len += key.len() + 1;
            current.push(key);
        }
        if !current.is_empty() {
            chunks.push(header.join(current));
        }
        chunks
    }

    async fn send(&self, url: &str, keys: &str) -> Result<(), String> {
        self.inner.requests.fetch_add(1, Ordering::Relaxed);
        let method = reqwest::Method::from_bytes(b"PURGE").expect("PURGE is a method token");
        let sent = self
            .inner
            .client
            .request(method, format!("{url}/"))
            .header(self.inner.header.name().as_str(), keys)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("{url} answered {}", response.status())),
            Err(e) => Err(format!("{url}: {e}")),
        }
    }

    /// The purger's series in the Prometheus text format.
    pub(crate) fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let i = &self.inner;
        let _ = writeln!(
            out,
            "# HELP folio_edge_purge_requests_total PURGE requests sent to edges.\n\
             # TYPE folio_edge_purge_requests_total counter\nfolio_edge_purge_requests_total {}\n\
             # HELP folio_edge_purge_failures_total PURGE requests an edge did not acknowledge (retried by the change feed).\n\
             # TYPE folio_edge_purge_failures_total counter\nfolio_edge_purge_failures_total {}\n\
             # HELP folio_edge_late_purge_failures_total Second purges that failed.\n\
             # TYPE folio_edge_late_purge_failures_total counter\nfolio_edge_late_purge_failures_total {}\n\
             # HELP folio_edges Edges purged on every write.\n\
             # TYPE folio_edges gauge\nfolio_edges {}",
            i.requests.load(Ordering::Relaxed),
            i.failures.load(Ordering::Relaxed),
            i.late_failures.load(Ordering::Relaxed),
            i.urls.len(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_keys_are_cut_into_headers_an_edge_accepts() {
        let settings = EdgeSettings {
            purge_urls: super::super::PurgeUrls(vec!["http://127.0.0.1:1".into()]),
            key_header: super::super::KeyHeader::Xkey,
            max_age: 10,
        };
        let purger = EdgePurger::new(&settings).unwrap();
        let tags: Vec<Tag> = (1..=2000).map(Tag::Ratings).collect();
        let chunks = purger.key_chunks(&tags);
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.len() <= MAX_KEY_HEADER_BYTES));
        let keys: Vec<&str> = chunks.iter().flat_map(|c| c.split(' ')).collect();
        assert_eq!(keys.len(), tags.len());
        assert_eq!(keys[0], "ratings:1");
        assert_eq!(keys[1999], "ratings:2000");
    }
}
