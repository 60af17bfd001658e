//! The kernel command line: words before ` -- ` are the kernel's, the words after it are
//! `/init`'s arguments.

use alloc::vec::Vec;

/// The kernel's part of the command line (everything before ` -- `).
pub fn kernel_part(cmdline: &str) -> &str {
    if cmdline.starts_with("-- ") || cmdline == "--" {
        return "";
    }
    cmdline.split(" -- ").next().unwrap_or("")
}

/// Whether the kernel's part contains the word `flag`.
pub fn has_flag(cmdline: &str, flag: &str) -> bool {
    kernel_part(cmdline).split_ascii_whitespace().any(|w| w == flag)
}

/// `/init`'s argv: `/init` plus every word after the first ` -- `.
pub fn init_argv(cmdline: &str) -> Vec<Vec<u8>> {
    let mut argv = alloc::vec![b"/init".to_vec()];
    let rest = match cmdline.find(" -- ") {
        Some(i) => &cmdline[i + 4..],
        None => cmdline.strip_prefix("-- ").unwrap_or_default(),
    };
    argv.extend(rest.split_ascii_whitespace().map(|w| w.as_bytes().to_vec()));
    argv
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(v: &[Vec<u8>]) -> Vec<&str> {
        v.iter().map(|w| core::str::from_utf8(w).unwrap()).collect()
    }

    #[test]
    fn init_gets_the_words_after_the_separator() {
        assert_eq!(
            words(&init_argv("kernel.elf strace -- test t_mm timeout=20")),
            ["/init", "test", "t_mm", "timeout=20"]
        );
        assert_eq!(words(&init_argv("-- run /bin/x  a   b")), ["/init", "run", "/bin/x", "a", "b"]);
        assert_eq!(words(&init_argv("kernel.elf strace")), ["/init"]);
        assert_eq!(words(&init_argv("")), ["/init"]);
        // Only the first separator splits; later ones are /init's words.
        assert_eq!(words(&init_argv("k -- a -- b")), ["/init", "a", "--", "b"]);
        // A `--` glued to a word is not a separator.
        assert_eq!(words(&init_argv("k --x y")), ["/init"]);
    }

    #[test]
    fn kernel_flags_come_only_from_before_the_separator() {
        assert!(has_flag("kernel.elf strace -- test", "strace"));
        assert!(!has_flag("kernel.elf -- strace", "strace"));
        assert!(!has_flag("-- strace", "strace"));
        assert!(!has_flag("kernel.elf stracex", "strace"));
        assert_eq!(kernel_part("a b -- c"), "a b");
        assert_eq!(kernel_part("a b"), "a b");
    }
}
