//! The mail room: what each email says (payload and templates), how it
//! leaves (SMTP or `.eml` files), and the dispatcher that drains the outbox.
//!
//! Emails are never sent from inside a database transaction: a stage change
//! writes an outbox row holding an [`EmailPayload`] snapshot, and the
//! dispatcher renders and delivers it afterwards, so a retry sends the same
//! message with the same `Message-ID`.

mod connections;
mod dispatcher;
mod payload;
mod render;
mod transport;

pub use dispatcher::{instance_id, retry_delay, Dispatcher};
pub use payload::{DeadlineInfo, EmailEvent, EmailPayload, PartnerContact};
pub use render::{render, RenderError};
pub use transport::{SendError, Transport};
