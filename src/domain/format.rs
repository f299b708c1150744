//! Number formatting shared by the commands and the screens.

/// An integer with thousands separators: 1234567 -> "1,234,567", -1000 -> "-1,000".
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_by_three() {
        assert_eq!(thousands(0u64), "0");
        assert_eq!(thousands(999i64), "999");
        assert_eq!(thousands(1000u64), "1,000");
        assert_eq!(thousands(1_234_567i64), "1,234,567");
        assert_eq!(thousands(-1000i64), "-1,000");
    }
}
