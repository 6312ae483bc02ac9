//! Git's smart HTTP protocol, as far as resolving refs needs it: no API rate limit and no
//! token, the way `git ls-remote` asks.

pub mod client;
pub mod pack;
pub mod pktline;
pub mod refs;
