//! The pattern crate's conformance tests: AWS-recorded cases, event-ruler's fixtures, and a
//! property test against a plain reference interpreter.

mod aws_recorded;
mod city_lots;
mod event_ruler;
mod property;
mod reference;
