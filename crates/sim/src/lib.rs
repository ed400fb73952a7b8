//! sxplan-sim: see ARCHITECTURE.md for what this crate owns.
