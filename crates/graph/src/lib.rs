//! sxplan-graph: see ARCHITECTURE.md for what this crate owns.
