//! Renderers for `design` results (being written).
