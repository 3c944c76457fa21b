//! `grades.csv`: one row per student, one column per exercise, then the total and the status.
//!
//! RFC 4180: comma-separated, a field holding a comma, a quote or a line break is quoted (its
//! quotes doubled), lines end in CRLF, so that spreadsheets and LMS imports read it as is.
//! Points are plain numbers rounded to hundredths (`7.5`, `10`, `8.33`); an exercise that was not graded (the
//! submission was refused, or the grader failed) is an empty field.

use super::record::Record;

/// Points rounded to hundredths, with no trailing zeros.
fn number(points: f64) -> String {
    format!("{}", (points * 100.0).round() / 100.0)
}

/// The gradebook of `records` with the columns of `exercises`.
pub fn csv(exercises: &[&str], records: &[Record]) -> String {
    let mut header = vec!["student"];
    header.extend_from_slice(exercises);
    header.extend_from_slice(&["total", "status"]);
    let mut text = row(header.iter().map(|field| field.to_string()));
    for record in records {
        let points = exercises.iter().map(|name| {
            record
                .exercises
                .iter()
                .find(|exercise| exercise.name == *name)
                .map_or_else(String::new, |exercise| number(exercise.points))
        });
        let fields = std::iter::once(record.student.clone())
            .chain(points)
            .chain([number(record.score), record.status.label().to_string()]);
        text.push_str(&row(fields));
    }
    text
}

fn row(fields: impl Iterator<Item = String>) -> String {
    let mut line = fields
        .map(|field| quoted(&field))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

fn quoted(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::{ExerciseRecord, Record, SCHEMA, Status};
    use super::*;
    use crate::report::ExerciseStatus;

    #[test]
    fn a_row_per_student_with_quoted_names_and_empty_ungraded_columns() {
        let graded = Record {
            schema: SCHEMA.into(),
            student: "Doe, \"Jo\"".into(),
            submission: "jo.zip".into(),
            fingerprint: "f".into(),
            status: Status::Graded,
            message: String::new(),
            score: 7.5,
            max: 25.0,
            exercises: vec![ExerciseRecord {
                name: "create".into(),
                status: ExerciseStatus::Failed,
                points: 7.5,
                max: 10.0,
                compiler_error: None,
                checks: Vec::new(),
            }],
        };
        let refused = Record {
            student: "zed".into(),
            status: Status::Refused,
            score: 0.0,
            exercises: Vec::new(),
            ..graded.clone()
        };
        assert_eq!(
            csv(&["create", "attach"], &[graded, refused]),
            "student,create,attach,total,status\r\n\
             \"Doe, \"\"Jo\"\"\",7.5,,7.5,graded\r\n\
             zed,,,0,refused\r\n"
        );
    }
}
