//! `folio admin create`: admin accounts, and the password prompt.

use std::io::IsTerminal;

use clap::Subcommand;

use super::CliError;
use crate::auth;
use crate::config::Settings;
use crate::domain::{Email, NewPassword};
use crate::startup;

#[derive(Subcommand)]
pub(super) enum AdminCommand {
    #[expect(clippy::doc_markdown, reason = "--help's text, read on a terminal")]
    /// Create an admin. The password is asked for on a terminal, or read
    /// from FOLIO_ADMIN_PASSWORD otherwise; it needs 12 characters or more.
    /// With --reset-password, every session of that admin ends.
    Create {
        /// The admin's email, used to sign in.
        #[arg(long)]
        email: String,
        /// Give an existing admin this new password instead of failing.
        #[arg(long)]
        reset_password: bool,
    },
}

pub(super) async fn run(settings: &Settings, command: &AdminCommand) -> Result<(), CliError> {
    let AdminCommand::Create {
        email,
        reset_password,
    } = command;
    let email = Email::parse(email).map_err(|e| format!("--email: {e}"))?;
    let password = NewPassword::parse(read_password(&email)?)?;
    let db = startup::open_database(settings).await?;
    let created = auth::create_admin(&db, email.clone(), password, *reset_password).await?;
    if created {
        println!("created the admin {email}; sign in at /admin/login");
    } else {
        println!("gave the admin {email} a new password");
    }
    Ok(())
}

/// The new admin's password: typed twice on a terminal, or taken from
/// `FOLIO_ADMIN_PASSWORD` when there is no terminal (scripts, CI).
fn read_password(email: &Email) -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        let first =
            rpassword::prompt_password(format!("Password for {email} (12 characters or more): "))?;
        let again = rpassword::prompt_password("The same password again: ")?;
        if first != again {
            return Err("the two passwords differ".into());
        }
        return Ok(first);
    }
    std::env::var("FOLIO_ADMIN_PASSWORD")
        .map_err(|_| "no terminal to ask for a password on: set FOLIO_ADMIN_PASSWORD".into())
}
