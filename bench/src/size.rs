//! TODO(bench size): being written.

//! (part of start)
