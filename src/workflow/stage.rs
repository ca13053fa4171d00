//! The stages of a case, the targets a move may name, and who acts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize, Serializer};

use crate::case::Tier;

/// Where a case is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The customer can fix it in the admin center.
    SelfService,
    /// The partner desk works on it.
    PartnerWorking,
    /// Handed to 21Vianet, not yet acknowledged.
    Escalated,
    /// 21Vianet works on it.
    Acknowledged,
    /// 21Vianet waits for information from the partner.
    AwaitingInfo,
    /// Solved; closes by itself after the auto-close delay.
    Resolved,
    /// Finished. Final.
    Closed,
}

impl Stage {
    /// Every stage, in the order of a case's life.
    pub const ALL: [Stage; 7] = [
        Stage::SelfService,
        Stage::PartnerWorking,
        Stage::Escalated,
        Stage::Acknowledged,
        Stage::AwaitingInfo,
        Stage::Resolved,
        Stage::Closed,
    ];

    /// The stages a partner may withdraw a case from.
    pub const OPEN: [Stage; 5] = [
        Stage::SelfService,
        Stage::PartnerWorking,
        Stage::Escalated,
        Stage::Acknowledged,
        Stage::AwaitingInfo,
    ];

    /// The name used in JSON, the database and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::SelfService => "self_service",
            Stage::PartnerWorking => "partner_working",
            Stage::Escalated => "escalated",
            Stage::Acknowledged => "acknowledged",
            Stage::AwaitingInfo => "awaiting_info",
            Stage::Resolved => "resolved",
            Stage::Closed => "closed",
        }
    }

    /// Whether someone is still working on the case (neither resolved nor closed).
    pub fn is_open(self) -> bool {
        Stage::OPEN.contains(&self)
    }

    /// The stage a classification lands a case in.
    pub fn for_decision(decision: Tier) -> Stage {
        match decision {
            Tier::SelfService => Stage::SelfService,
            Tier::Partner => Stage::PartnerWorking,
            Tier::Escalate => Stage::Escalated,
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown stage `{s}`; expected one of {}",
                    quoted(&Stage::ALL)
                )
            })
    }
}

/// What a move asks for: a stage, or `reopened` (re-classify a resolved case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// Move to this stage.
    Stage(Stage),
    /// Reopen: the case is re-classified and lands in the stage of its new decision.
    Reopened,
}

impl Target {
    /// The name used in transition bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Stage(stage) => stage.as_str(),
            Target::Reopened => "reopened",
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "reopened" {
            return Ok(Target::Reopened);
        }
        s.parse().map(Target::Stage).map_err(|_| {
            format!(
                "unknown target `{s}`; expected one of {}, `reopened`",
                quoted(&Stage::ALL)
            )
        })
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The kinds of actor, as events and tokens name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A partner desk.
    Partner,
    /// 21Vianet's escalation desk.
    Vianet,
    /// An administrator.
    Admin,
    /// escalator itself (deadlines).
    System,
}

impl Role {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Partner => "partner",
            Role::Vianet => "vianet",
            Role::Admin => "admin",
            Role::System => "system",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "partner" => Ok(Role::Partner),
            "vianet" => Ok(Role::Vianet),
            "admin" => Ok(Role::Admin),
            "system" => Ok(Role::System),
            _ => Err(format!("unknown role `{s}`")),
        }
    }
}

/// Who makes a move: serialized as `{"role": ..., "id": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A partner desk, by partner id.
    Partner {
        /// The partner's id.
        id: String,
    },
    /// 21Vianet's desk, by the token's name.
    Vianet {
        /// The token's name.
        id: String,
    },
    /// An administrator, by the token's name.
    Admin {
        /// The token's name.
        id: String,
    },
    /// escalator itself (passed deadlines); its id is `system`.
    System,
}

impl Actor {
    /// The actor's role.
    pub fn role(&self) -> Role {
        match self {
            Actor::Partner { .. } => Role::Partner,
            Actor::Vianet { .. } => Role::Vianet,
            Actor::Admin { .. } => Role::Admin,
            Actor::System => Role::System,
        }
    }

    /// The actor's id (`system` for escalator itself).
    pub fn id(&self) -> &str {
        match self {
            Actor::Partner { id } | Actor::Vianet { id } | Actor::Admin { id } => id,
            Actor::System => "system",
        }
    }

    /// Rebuilds an actor from its stored role and id.
    pub fn from_parts(role: Role, id: &str) -> Actor {
        match role {
            Role::Partner => Actor::Partner { id: id.to_owned() },
            Role::Vianet => Actor::Vianet { id: id.to_owned() },
            Role::Admin => Actor::Admin { id: id.to_owned() },
            Role::System => Actor::System,
        }
    }
}

impl Serialize for Actor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("role", &self.role())?;
        map.serialize_entry("id", self.id())?;
        map.end()
    }
}

pub(crate) fn quoted<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
