//! How deep each condition nests, counting the conditions of the lets it
//! uses. The evaluator recurses once per level, on the stack of whichever
//! thread classifies (2 MiB for the server's); a chain of tens of thousands
//! of lets, each using the one before, would overflow it and abort the
//! whole process at the first case. Such a condition is refused at load.

use super::super::ast::Span;
use super::super::compile::Builder;
use super::super::diagnostics::Raw;
use super::super::program::Node;

/// Deepest a condition may nest, counting the lets it uses: far beyond any
/// policy a person writes, and far below what the evaluator's stack holds.
pub const MAX_CONDITION_DEPTH: u32 = 1_000;

/// The depth of every node compiled so far and of every let.
#[derive(Debug, Default)]
pub(super) struct Depths {
    nodes: Vec<u32>,
    lets: Vec<u32>,
}

/// The depth of a let refused for nesting too deep, and of every condition
/// using it: reported once, at the first let too deep, not again at each
/// let built on it.
const REFUSED: u32 = u32::MAX;

impl Depths {
    /// Records the let of the next definition order, compiled to `node`.
    pub(super) fn define_let(&mut self, b: &mut Builder, node: u32, span: Span) {
        let depth = self.check(b, node, span);
        self.lets.push(depth);
    }

    /// The depth of the condition compiled to `node`, refused (at `span`)
    /// when it nests too deep.
    pub(super) fn check(&mut self, b: &mut Builder, node: u32, span: Span) -> u32 {
        let depth = self.of(b, node);
        if depth == REFUSED || depth <= MAX_CONDITION_DEPTH {
            return depth;
        }
        b.diagnostics.push(
            Raw::error(
                span,
                format!(
                    "condition nested more than {MAX_CONDITION_DEPTH} levels deep, counting the lets it uses"
                ),
            )
            .help("combine lets side by side (`a and b`) rather than each inside the next"),
        );
        REFUSED
    }

    /// The depth of `node`. Nodes are compiled children first and a let
    /// before its users, so the nodes added since the last call are measured
    /// in the order they were added.
    fn of(&mut self, b: &Builder, node: u32) -> u32 {
        while let Some(next) = b.nodes.get(self.nodes.len()) {
            let measured = |id: &u32| self.nodes.get(*id as usize).copied().unwrap_or(1);
            let below = match next {
                Node::Atom(_) | Node::Const(_) => 0,
                Node::Not(inner) => measured(inner),
                Node::Let(order) => self.lets.get(*order as usize).copied().unwrap_or(1),
                Node::And(start, end) | Node::Or(start, end) => b
                    .children
                    .get(*start as usize..*end as usize)
                    .unwrap_or_default()
                    .iter()
                    .map(measured)
                    .max()
                    .unwrap_or(0),
            };
            self.nodes.push(below.saturating_add(1));
        }
        self.nodes.get(node as usize).copied().unwrap_or(1)
    }
}
