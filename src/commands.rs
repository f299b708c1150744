//! Command dispatch.

pub fn main() -> i32 {
    0
}
