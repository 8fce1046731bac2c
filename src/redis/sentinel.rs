//! Redis Sentinel: which server is the master now, and noticing when that
//! changes.
//!
//! `REDIS_URL=redis+sentinel://host:port,host:port/master-name` names the
//! sentinels and the master's service name. folio asks the sentinels for the
//! master's address (`SENTINEL GET-MASTER-ADDR-BY-NAME`) at start and every
//! `POLL_EVERY` after, and connects to that address directly: the question is
//! a plain command, so no sentinel-specific client is needed, and folio sees
//! the switch itself, which it must (see `Redis::unsettled_switch`).

use std::time::Duration;

/// How often the sentinels are asked where the master is: the lag between a
/// failover and folio following it.
pub(crate) const POLL_EVERY: Duration = Duration::from_millis(250);

/// Where folio finds Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// One server (`redis://`, `rediss://`, `unix://`, `redis+unix://`).
    Direct(String),
    /// Whichever server the sentinels name master of `service`.
    Sentinel {
        sentinels: Vec<String>,
        service: String,
    },
}

const SENTINEL_SCHEME: &str = "redis+sentinel://";

impl Target {
    /// Parses `REDIS_URL`.
    pub(crate) fn parse(raw: &str) -> Result<Self, String> {
        if let Some(rest) = raw.strip_prefix(SENTINEL_SCHEME) {
            let (hosts, service) = rest
                .split_once('/')
                .ok_or("a master name after the sentinels: redis+sentinel://host:port,…/name")?;
            let service = service.trim_end_matches('/');
            let name_ok = !service.is_empty()
                && service.len() <= 64
                && service
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !name_ok {
                return Err("a master name of 1–64 characters [A-Za-z0-9_.-]".into());
            }
            let sentinels: Vec<String> = hosts.split(',').map(str::to_owned).collect();
            let host_ok = |h: &String| {
                h.rsplit_once(':')
                    .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok())
            };
            if sentinels.is_empty() || sentinels.len() > 16 || !sentinels.iter().all(host_ok) {
                return Err("1–16 sentinels as host:port, separated by commas".into());
            }
            return Ok(Self::Sentinel {
                sentinels,
                service: service.to_owned(),
            });
        }
        let direct = ["redis://", "rediss://", "redis+unix://", "unix://"];
        if direct.iter().any(|scheme| raw.starts_with(scheme)) {
            Ok(Self::Direct(raw.to_owned()))
        } else {
            Err("a redis://, rediss:// or redis+sentinel://host:port,…/master-name URL, or unset for the in-process cache".into())
        }
    }
}

/// The sentinels of one service, with a connection to each kept between
/// questions (a sentinel that stops answering is reconnected next time).
pub(crate) struct Sentinels {
    hosts: Vec<String>,
    service: String,
    conns: Vec<Option<::redis::aio::MultiplexedConnection>>,
}

impl Sentinels {
    pub(crate) fn new(hosts: &[String], service: &str) -> Self {
        Self {
            hosts: hosts.to_vec(),
            service: service.to_owned(),
            conns: vec![None; hosts.len()],
        }
    }

    /// The master's address (`host:port`) according to the first sentinel
    /// that answers within `timeout` and knows the service.
    pub(crate) async fn master(&mut self, timeout: Duration) -> Option<String> {
        for i in 0..self.hosts.len() {
            match tokio::time::timeout(timeout, self.ask(i)).await {
                Ok(Some(addr)) => return Some(addr),
                // Unknown service, or no answer: try the next one afresh.
                _ => self.conns[i] = None,
            }
        }
        None
    }

    async fn ask(&mut self, i: usize) -> Option<String> {
        if self.conns[i].is_none() {
            let client = ::redis::Client::open(format!("redis://{}/", self.hosts[i])).ok()?;
            self.conns[i] = Some(client.get_multiplexed_async_connection().await.ok()?);
        }
        let conn = self.conns[i].as_mut()?;
        let addr: Option<(String, String)> = ::redis::cmd("SENTINEL")
            .arg("GET-MASTER-ADDR-BY-NAME")
            .arg(&self.service)
            .query_async(conn)
            .await
            .ok()?;
        addr.map(|(host, port)| format!("{host}:{port}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_urls_name_hosts_and_a_master() {
        assert_eq!(
            Target::parse("redis+sentinel://127.0.0.1:26379,h:26380/mymaster"),
            Ok(Target::Sentinel {
                sentinels: vec!["127.0.0.1:26379".into(), "h:26380".into()],
                service: "mymaster".into()
            })
        );
        assert_eq!(
            Target::parse("redis://127.0.0.1:6379"),
            Ok(Target::Direct("redis://127.0.0.1:6379".into()))
        );
        for bad in [
            "redis+sentinel://h:1",
            "redis+sentinel://h:1/",
            "redis+sentinel://h/name",
            "redis+sentinel://h:1,/name",
            "redis+sentinel://h:1/na me",
            "http://x",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }
}
