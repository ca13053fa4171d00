//! The case workflow: stages, the moves between them, who may make them, and
//! what each move promises (emails, deadlines). Pure: no I/O and no clock —
//! the time of a move is an argument — so every rule of the stage table is
//! tested without a database, and the store only applies what this decides.

mod effects;
mod moves;
mod stage;

#[cfg(test)]
mod tests;

pub use effects::{
    deadline_email, effects, message_id, DeadlineKind, DeadlineState, EffectContext, Effects,
    EmailPlan,
};
pub use moves::{
    allowed_moves, decide, Action, MoveError, MoveRequest, Transition, Trigger, MAX_REASON_CHARS,
};
pub use stage::{Actor, Role, Stage, Target};
