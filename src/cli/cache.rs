//! `folio cache clear`: invalidate every fragment, or those of one tag (and
//! purge it at the edges).

use clap::Subcommand;

use super::CliError;
use crate::cache::Tag;
use crate::config::Settings;
use crate::edge::EdgePurger;
use crate::startup;

#[derive(Subcommand)]
pub(super) enum CacheCommand {
    /// Invalidate cached fragments: all of them, or those depending on one tag.
    Clear {
        /// `chart`, `books`, `book:{id}` or `ratings:{id}`; without it every
        /// entry is removed.
        #[arg(long, value_parser = parse_tag)]
        tag: Option<Tag>,
    },
}

fn parse_tag(raw: &str) -> Result<Tag, String> {
    Tag::parse(raw).ok_or_else(|| {
        format!("{raw:?} is not a tag: expected chart, books, ratings, book:ID or ratings:ID")
    })
}

pub(super) async fn run(settings: &Settings, command: &CacheCommand) -> Result<(), CliError> {
    let CacheCommand::Clear { tag } = *command;
    let cache = startup::build_stores(settings).await?.cache;
    if let Some(tag) = tag {
        cache.invalidate_tags(&[tag]).await?;
        if let Some(edge) = EdgePurger::new(&settings.edge) {
            edge.purge(&[tag]).await?;
            println!("purged {tag} at the edges");
        }
        println!("invalidated every fragment that depends on {tag}");
    } else {
        let removed = cache.clear().await?;
        println!(
            "removed {removed} keys under {}:*",
            settings.redis.prefix.as_str()
        );
    }
    Ok(())
}
