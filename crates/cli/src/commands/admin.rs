//! `paperboy admin …`: the operator's account and moderation commands, run
//! against the data directory (no server needed): create a member (the
//! password is read from stdin with `--password-stdin` or prompted without
//! echo, never taken as an argument), make a personal API token for a member
//! (for scripts and bots), suspend or reinstate a member, hide or show a
//! paper or a comment.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use paperboy_core::{CommentId, PaperId, Role, Username};
use paperboy_services::accounts::{self, SignUp};
use paperboy_store::SqlStore;

use crate::config::Settings;
use paperboy_store::{Accounts, Moderation};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a member account (verified), optionally an admin
    CreateUser {
        /// 3 to 32 letters, digits, '_' or '-'
        username: String,
        /// The member's email address
        #[arg(long)]
        email: String,
        /// Make the member an admin
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of stdin instead of prompting
        #[arg(long)]
        password_stdin: bool,
    },
    /// Make a personal API token for a member and print it (shown once; the
    /// member sees and can revoke it in their settings)
    CreateToken {
        username: String,
        /// A label that says what the token is for
        #[arg(long, default_value = "made by the operator")]
        name: String,
    },
    /// Suspend a member (logs them out everywhere); --undo lifts it
    Suspend {
        username: String,
        #[arg(long)]
        undo: bool,
    },
    /// Hide a paper from feeds, pages, search and the API; --undo shows it again
    HidePaper {
        /// e.g. 2312.00752 or arXiv:2312.00752v2
        id: String,
        #[arg(long)]
        undo: bool,
    },
    /// Hide a comment (its text is replaced for everyone but admins); --undo shows it again
    HideComment {
        /// The number in the comment's link, e.g. 42 for /papers/2312.00752#c42
        id: i64,
        #[arg(long)]
        undo: bool,
    },
}

pub async fn run(cmd: AdminCommand, settings: &Settings) -> Result<ExitCode> {
    let store = super::open_store(settings).await?;
    match cmd {
        AdminCommand::CreateUser { username, email, admin, password_stdin } => {
            let password = read_password(password_stdin)?;
            let role = if admin { Role::Admin } else { Role::Member };
            let form = SignUp { username: &username, email: &email, password: &password, role, email_verified: true };
            let user = accounts::sign_up(store.database(), &form).await.map_err(|e| anyhow!("{e}"))?;
            println!("created {} {} ({})", user.role.as_str(), user.username, user.email);
        }
        AdminCommand::CreateToken { username, name } => {
            let user = find_user(&store, &username).await?;
            if user.is_suspended() {
                bail!(
                    "{} is suspended: reinstate them first (paperboy admin suspend {} --undo)",
                    user.username,
                    user.username
                );
            }
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                bail!("the token's --name must be 1 to 100 characters, without control characters");
            }
            let (_, secret) = store.create_api_token(user.id, name).await?;
            eprintln!("API token for {} (shown once; send it as `Authorization: Bearer …`):", user.username);
            println!("{}", secret.as_str());
        }
        AdminCommand::Suspend { username, undo } => {
            let user = find_user(&store, &username).await?;
            store.set_suspended(user.id, !undo).await?;
            println!("{} {}", if undo { "reinstated" } else { "suspended" }, user.username);
        }
        AdminCommand::HidePaper { id, undo } => {
            let id = PaperId::parse(&id)?;
            store.set_paper_hidden(&id, !undo).await?;
            println!("{} {id}", if undo { "shown again:" } else { "hidden:" });
        }
        AdminCommand::HideComment { id, undo } => {
            store.set_comment_hidden(CommentId(id), !undo).await?;
            println!("{} comment {id}", if undo { "shown again:" } else { "hidden:" });
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn find_user(store: &SqlStore, username: &str) -> Result<paperboy_store::User> {
    let name = Username::parse(username)?;
    store.user_by_username(&name).await?.ok_or_else(|| anyhow!("there is no member named {name}"))
}

/// The password from stdin's first line, or typed at a prompt without echo.
fn read_password(from_stdin: bool) -> Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
        let pw = line.trim_end_matches(['\r', '\n']).to_string();
        if pw.is_empty() {
            bail!("no password on stdin: pipe it in, e.g. `printf '%s\\n' \"$PW\" | paperboy admin create-user …`");
        }
        return Ok(pw);
    }
    if !std::io::stdin().is_terminal() {
        bail!("stdin is not a terminal: pass --password-stdin and pipe the password in");
    }
    let pw = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let again = rpassword::prompt_password("Again: ").context("cannot read the password")?;
    if pw != again {
        bail!("the two passwords differ");
    }
    Ok(pw)
}
