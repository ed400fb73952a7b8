//! sxplan-opt: see ARCHITECTURE.md for what this crate owns.
