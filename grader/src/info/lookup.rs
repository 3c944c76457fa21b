//! Finding an exercise by the name a person typed: the exact name, or an error that says
//! which names exist and, for a typo, which one was probably meant.
//!
//! One function for every command that takes a name (`cargo grade NAME`, `hint`, `reset`,
//! `watch`), whatever it holds per exercise (the grader's [`crate::exercises::Exercise`] or
//! the bare [`ExerciseInfo`]), so that they all answer a typo alike.

use super::ExerciseInfo;

/// Finds an exercise by name, or says which names exist.
pub fn find_exercise<'a, T: AsRef<ExerciseInfo>>(
    exercises: &'a [T],
    name: &str,
) -> anyhow::Result<&'a T> {
    exercises
        .iter()
        .find(|exercise| exercise.as_ref().name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = exercises
                .iter()
                .map(|exercise| exercise.as_ref().name.as_str())
                .collect();
            anyhow::anyhow!("{}", unknown_exercise(name, &names))
        })
}

/// The error text for an exercise name that is not one: a "did you mean" when a known name is
/// close (a typo), and the list of names.
pub fn unknown_exercise(name: &str, known: &[&str]) -> String {
    let suggestion = did_you_mean(name, known)
        .map(|close| format!("did you mean `{close}`? "))
        .unwrap_or_default();
    format!(
        "there is no exercise named {name:?}; {suggestion}the exercises are: {}",
        known.join(", ")
    )
}

/// The known name closest to `name`, if it is close enough to be a typo: at most a third of
/// its letters edited (at least one), or `name` is the start of exactly one known name
/// (`parent` for `parent-child`) or its number (`3`, `03`).
pub fn did_you_mean<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    if let Ok(number) = name.parse::<usize>() {
        return number
            .checked_sub(1)
            .and_then(|index| known.get(index))
            .copied();
    }
    let starting: Vec<&&str> = known
        .iter()
        .filter(|known| known.starts_with(&name))
        .collect();
    if let [only] = starting.as_slice() {
        return Some(only);
    }
    let (distance, closest) = known
        .iter()
        .map(|known| (edit_distance(&name, known), *known))
        .min_by_key(|(distance, _)| *distance)?;
    (distance <= (name.chars().count() / 3).max(1)).then_some(closest)
}

/// Levenshtein distance: the fewest one-character insertions, deletions and substitutions
/// that turn `a` into `b`. One row at a time (the names are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 6] = [
        "create",
        "attach",
        "parent-child",
        "ping-pong",
        "sized",
        "remove",
    ];

    #[test]
    fn typos_get_a_suggestion_and_strangers_do_not() {
        assert_eq!(did_you_mean("crate", &NAMES), Some("create"));
        assert_eq!(did_you_mean("atach", &NAMES), Some("attach"));
        assert_eq!(did_you_mean("pingpong", &NAMES), Some("ping-pong"));
        assert_eq!(did_you_mean("parent_child", &NAMES), Some("parent-child"));
        assert_eq!(did_you_mean("Remove", &NAMES), Some("remove"));
        assert_eq!(did_you_mean("parent", &NAMES), Some("parent-child"));
        assert_eq!(did_you_mean("3", &NAMES), Some("parent-child"));
        assert_eq!(did_you_mean("05", &NAMES), Some("sized"));
        assert_eq!(did_you_mean("7", &NAMES), None);
        assert_eq!(did_you_mean("p", &NAMES), None, "two names start with p");
        assert_eq!(did_you_mean("semaphore", &NAMES), None);
        assert_eq!(did_you_mean("", &NAMES), None);
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("create", "create"), 0);
        assert_eq!(edit_distance("crate", "create"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn the_error_names_the_suggestion_and_the_list() {
        let text = unknown_exercise("crate", &NAMES);
        assert!(
            text.contains("did you mean `create`? the exercises are: create, attach"),
            "{text}"
        );
        assert!(!unknown_exercise("zzz", &NAMES).contains("did you mean"));
    }
}
