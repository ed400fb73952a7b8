//! Renderers for `check` results (being written).
