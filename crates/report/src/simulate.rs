//! Renderers for `simulate` results (being written).
