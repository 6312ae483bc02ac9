//! `cicd release` and the GitHub REST stand-in it is tested against.

mod stand_in;
