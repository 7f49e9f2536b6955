//! Synthetic peers for the demo (`make demo`) and the end-to-end tests: a room system that
//! places an H.264 + G.711 call ([`vtc::Vtc`]) and Meet participants that join meet-sim with
//! the node's own Meet leg ([`participant::Participant`]). Real encoders, decoders and network
//! stacks; only the cameras, microphones and screens are synthetic. [`run`] is `tcn demo`: one
//! whole call with these peers and a node in a child process, and its summary.

pub mod http;
pub mod participant;
pub mod run;
pub mod vtc;
