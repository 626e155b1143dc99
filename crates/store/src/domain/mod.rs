//! The store's public traits, one per part of the domain, with the values
//! that cross them: [`Catalog`] (papers and the change feed),
//! [`Accounts`] (members, sessions, tokens, email links), [`Community`]
//! (votes, submissions, comments, reading lists, profiles), [`Moderation`]
//! (roles, suspensions, hiding, the admin's view), [`Mailing`]
//! (subscriptions and the outbox), [`Harvests`] (the harvest log),
//! [`Coordination`] (leases, shared rate limits and secrets between
//! processes) [`Signals`] (trending signals from GitHub and Hugging
//! Face) [`Interests`] (a member's own signals for recommendations) and
//! [`Embeddings`] (papers' vectors, computed once per deployment). [`Database`] is all of them, which is what the web layer
//! holds. They are object-safe async traits that speak in domain types; no
//! SQL here (that is `sql/`).

pub(crate) mod accounts;
pub(crate) mod catalog;
pub(crate) mod community;
pub(crate) mod coordination;
pub(crate) mod embeddings;
pub(crate) mod harvests;
pub(crate) mod interests;
pub(crate) mod mailing;
pub(crate) mod moderation;
pub(crate) mod signals;

use accounts::Accounts;
use catalog::Catalog;
use community::Community;
use coordination::Coordination;
use embeddings::Embeddings;
use harvests::Harvests;
use interests::Interests;
use mailing::Mailing;
use moderation::Moderation;
use signals::Signals;

/// A backend that keeps everything: the catalog, the members and what they
/// do, moderation, the mail, the harvest log, the coordination between
/// processes and the trending signals.
pub trait Database:
    Catalog + Accounts + Community + Moderation + Mailing + Harvests + Coordination + Signals + Interests + Embeddings
{
}

impl<
    T: Catalog + Accounts + Community + Moderation + Mailing + Harvests + Coordination + Signals + Interests + Embeddings,
> Database for T
{
}
