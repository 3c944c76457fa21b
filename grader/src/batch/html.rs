//! `report.html`: the class at a glance, for the lecturer before the next lecture.
//!
//! One self-contained page: no script, no style sheet or font from elsewhere, the charts drawn
//! by plotters as inline SVG (its SVG backend with plotters' own text metrics, so no font file
//! is read either). It opens from a mail attachment or a course drive as it is, and nothing is
//! fetched when it is viewed.
//!
//! What it shows: the score histogram; the failure rate of each exercise and of each check,
//! most-failed first, each check with the commonest wrong outputs and how many students had
//! each (what the class misunderstood); the submissions that did not compile, with the first
//! error; those refused at intake; grader errors. A rate counts the students who got that far
//! and tried: one whose program did not compile, or who did not start the exercise, is
//! counted apart, not as a failure.
//!
//! The page depends only on the records, in order, so two runs over the same class (or
//! merged shards) give the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use super::record::{Record, Status};
use crate::report::human::number;
use crate::report::{CheckStatus, ExerciseStatus};

/// Wrong outputs listed per check; the rest are counted.
const WRONG_OUTPUTS_SHOWN: usize = 5;
/// A wrong output longer than this is cut (program output can be long).
const WRONG_OUTPUT_CHARS: usize = 300;

/// The page for `records` (sorted by student); `exercises` in the lab's order.
pub fn render(exercises: &[&str], records: &[Record]) -> Result<String> {
    let graded: Vec<&Record> = records
        .iter()
        .filter(|record| !record.exercises.is_empty())
        .collect();
    let lab_max = graded.iter().map(|record| record.max).fold(0.0, f64::max);
    let mut page = String::new();
    page.push_str(HEAD);
    let count = |status| {
        records
            .iter()
            .filter(|record| record.status == status)
            .count()
    };
    let _ = write!(
        page,
        "<h1>Class report</h1>\n<p class=\"summary\">{} submissions: {} graded, {} did not \
         compile (partly), {} grader errors, {} refused.",
        records.len(),
        count(Status::Graded),
        count(Status::DidNotCompile),
        count(Status::GraderError),
        count(Status::Refused),
    );
    if !graded.is_empty() {
        let mut scores: Vec<f64> = graded.iter().map(|record| record.score).collect();
        scores.sort_by(f64::total_cmp);
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        let median = scores[scores.len() / 2];
        let _ = write!(
            page,
            " Mean {} / {}, median {}.",
            number(mean),
            number(lab_max),
            number(median)
        );
    }
    page.push_str("</p>\n");

    page.push_str("<h2>Scores</h2>\n");
    page.push_str(&histogram(&graded, lab_max)?);

    let exercise_rates = exercise_rates(exercises, &graded);
    page.push_str("<h2>Exercises, most failed first</h2>\n");
    page.push_str(&rate_chart(&exercise_rates)?);
    page.push_str(
        "<table>\n<tr><th>exercise</th><th>failed</th><th>passed</th><th>failure rate</th>\
         <th>not started</th><th>did not compile</th></tr>\n",
    );
    for rate in &exercise_rates {
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&rate.name),
            rate.failed,
            rate.passed,
            percent(rate.rate()),
            rate.not_started,
            rate.did_not_compile
        );
    }
    page.push_str("</table>\n");

    page.push_str(&checks_section(exercises, &graded));
    page.push_str(&problems_section(records));
    page.push_str("</body>\n</html>\n");
    Ok(page)
}

const HEAD: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<link rel=\"icon\" href=\"data:,\">\n<title>shmlab: class report</title>\n<style>\n\
body { font-family: sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }\n\
table { border-collapse: collapse; margin: 1rem 0; }\n\
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }\n\
th { background: #f3f3f3; }\n\
pre { margin: 0; white-space: pre-wrap; font-size: 0.85rem; }\n\
.chart svg { max-width: 100%; height: auto; }\n\
.none { color: #666; }\n\
</style>\n</head>\n<body>\n";

/// Failure counts of one exercise or one check.
#[derive(Clone, Debug, Default)]
struct Rate {
    name: String,
    failed: usize,
    passed: usize,
    not_started: usize,
    did_not_compile: usize,
    /// Wrong output → students who had it.
    wrong: BTreeMap<String, usize>,
}

impl Rate {
    /// Of the students who tried.
    fn rate(&self) -> f64 {
        let tried = self.failed + self.passed;
        if tried == 0 {
            0.0
        } else {
            self.failed as f64 / tried as f64
        }
    }
}

fn by_rate(rates: &mut [Rate]) {
    // Stable: equal rates keep the lab's order.
    rates.sort_by(|a, b| b.rate().total_cmp(&a.rate()).then(b.failed.cmp(&a.failed)));
}

fn exercise_rates(exercises: &[&str], graded: &[&Record]) -> Vec<Rate> {
    let mut rates: Vec<Rate> = exercises
        .iter()
        .map(|name| {
            let mut rate = Rate {
                name: name.to_string(),
                ..Rate::default()
            };
            for exercise in graded
                .iter()
                .flat_map(|record| &record.exercises)
                .filter(|exercise| exercise.name == *name)
            {
                match exercise.status {
                    ExerciseStatus::Passed => rate.passed += 1,
                    ExerciseStatus::Failed => rate.failed += 1,
                    ExerciseStatus::NotStarted => rate.not_started += 1,
                    ExerciseStatus::DidNotCompile => rate.did_not_compile += 1,
                    ExerciseStatus::Error => {}
                }
            }
            rate
        })
        .collect();
    by_rate(&mut rates);
    rates
}

fn checks_section(exercises: &[&str], graded: &[&Record]) -> String {
    // In the lab's order first, so that equal rates keep it.
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut rates: BTreeMap<(String, String, String), Rate> = BTreeMap::new();
    for name in exercises {
        for exercise in graded
            .iter()
            .flat_map(|record| &record.exercises)
            .filter(|exercise| exercise.name == *name)
        {
            for check in &exercise.checks {
                let key = (
                    exercise.name.clone(),
                    check.test.clone(),
                    check.name.clone(),
                );
                let rate = rates.entry(key.clone()).or_insert_with(|| {
                    order.push(key.clone());
                    Rate {
                        name: format!("{} › {} › {}", key.0, key.1, key.2),
                        ..Rate::default()
                    }
                });
                match check.status {
                    CheckStatus::Passed => rate.passed += 1,
                    CheckStatus::Failed => {
                        rate.failed += 1;
                        let wrong = check.wrong.as_deref().unwrap_or("(nothing recorded)");
                        *rate.wrong.entry(cut(wrong)).or_default() += 1;
                    }
                    CheckStatus::NotStarted => rate.not_started += 1,
                    CheckStatus::DidNotCompile => rate.did_not_compile += 1,
                    CheckStatus::Error => {}
                }
            }
        }
    }
    let mut rates: Vec<Rate> = order
        .into_iter()
        .filter_map(|key| rates.remove(&key))
        .collect();
    by_rate(&mut rates);
    let (failing, clean): (Vec<Rate>, Vec<Rate>) =
        rates.into_iter().partition(|rate| rate.failed > 0);
    let mut section = String::from("<h2>Checks, most failed first</h2>\n");
    if failing.is_empty() {
        section.push_str("<p class=\"none\">No check failed.</p>\n");
    } else {
        section.push_str(
            "<table>\n<tr><th>check (exercise › test › check)</th><th>failed</th>\
             <th>failure rate</th><th>commonest wrong outputs (students)</th></tr>\n",
        );
        for rate in &failing {
            let mut wrong: Vec<(&String, &usize)> = rate.wrong.iter().collect();
            wrong.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let mut cell = String::new();
            for (output, students) in wrong.iter().take(WRONG_OUTPUTS_SHOWN) {
                let _ = write!(cell, "<pre>{students} × {}</pre>", escape(output));
            }
            if wrong.len() > WRONG_OUTPUTS_SHOWN {
                let _ = write!(
                    cell,
                    "<pre>and {} other outputs</pre>",
                    wrong.len() - WRONG_OUTPUTS_SHOWN
                );
            }
            let _ = writeln!(
                section,
                "<tr><td>{}</td><td>{} of {}</td><td>{}</td><td>{cell}</td></tr>",
                escape(&rate.name),
                rate.failed,
                rate.failed + rate.passed,
                percent(rate.rate())
            );
        }
        section.push_str("</table>\n");
    }
    if !clean.is_empty() {
        let _ = writeln!(
            section,
            "<p class=\"none\">{} other checks passed for every student who tried them.</p>",
            clean.len()
        );
    }
    section
}

/// The submissions that did not compile, were refused, or met a grader error.
fn problems_section(records: &[Record]) -> String {
    let mut section = String::new();
    section.push_str("<h2>Did not compile</h2>\n");
    let broken: Vec<String> = records
        .iter()
        .flat_map(|record| {
            record.exercises.iter().filter_map(|exercise| {
                exercise.compiler_error.as_ref().map(|error| {
                    format!(
                        "<tr><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
                        escape(&record.student),
                        escape(&exercise.name),
                        escape(&cut(error))
                    )
                })
            })
        })
        .collect();
    table_or_none(
        &mut section,
        "<tr><th>student</th><th>exercise</th><th>first error</th></tr>",
        &broken,
    );
    for (status, title) in [
        (Status::Refused, "Refused at intake"),
        (
            Status::GraderError,
            "Grader errors (not the students' fault: grade them again)",
        ),
    ] {
        let _ = writeln!(section, "<h2>{title}</h2>");
        let rows: Vec<String> = records
            .iter()
            .filter(|record| record.status == status)
            .map(|record| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
                    escape(&record.student),
                    escape(&record.submission),
                    escape(&cut(&record.message))
                )
            })
            .collect();
        table_or_none(
            &mut section,
            "<tr><th>student</th><th>submission</th><th>why</th></tr>",
            &rows,
        );
    }
    section
}

fn table_or_none(section: &mut String, header: &str, rows: &[String]) {
    if rows.is_empty() {
        section.push_str("<p class=\"none\">None.</p>\n");
    } else {
        let _ = writeln!(section, "<table>\n{header}\n{}\n</table>", rows.join("\n"));
    }
}

/// Score histogram: ten bins of a tenth of the lab's points each (full marks in the last),
/// labelled in percent of the lab, which reads the same whatever its total (a tenth of 132
/// points is 13.2).
fn histogram(graded: &[&Record], lab_max: f64) -> Result<String> {
    const BINS: u32 = 10;
    let mut counts = vec![0u32; BINS as usize];
    for record in graded {
        let fraction = if lab_max > 0.0 {
            record.score / lab_max
        } else {
            0.0
        };
        let bin = ((fraction * f64::from(BINS)).floor() as u32).min(BINS - 1);
        counts[bin as usize] += 1;
    }
    let step = 100 / BINS;
    let labels = (0..BINS)
        .map(|bin| format!("{}–{}%", bin * step, (bin + 1) * step))
        .collect();
    let highest = counts.iter().copied().max().unwrap_or(0).max(1);
    bar_chart(labels, &counts, highest, "students", RGBColor(70, 110, 180))
}

/// Failure rate per exercise, as bars in percent.
fn rate_chart(rates: &[Rate]) -> Result<String> {
    let labels = rates.iter().map(|rate| rate.name.clone()).collect();
    let percents: Vec<u32> = rates
        .iter()
        .map(|rate| (rate.rate() * 100.0).round() as u32)
        .collect();
    bar_chart(
        labels,
        &percents,
        100,
        "% of those who tried",
        RGBColor(200, 80, 60),
    )
}

/// One bar per label, of heights `values` (up to `highest`), as an SVG chart of 720 × 300.
fn bar_chart(
    labels: Vec<String>,
    values: &[u32],
    highest: u32,
    y_desc: &str,
    color: RGBColor,
) -> Result<String> {
    let count = labels.len().max(1) as u32;
    let label = move |value: &SegmentValue<u32>| match value {
        SegmentValue::CenterOf(index) | SegmentValue::Exact(index) => {
            labels.get(*index as usize).cloned().unwrap_or_default()
        }
        SegmentValue::Last => String::new(),
    };
    let mut text = String::new();
    {
        let area = SVGBackend::with_string(&mut text, (720, 300)).into_drawing_area();
        let drawn = area
            .fill(&WHITE)
            .map_err(|error| anyhow!("{error}"))
            .and_then(|()| {
                let mut chart = ChartBuilder::on(&area)
                    .margin(12)
                    .x_label_area_size(40)
                    .y_label_area_size(45)
                    // A segmented range of 0..n has n + 1 segments.
                    .build_cartesian_2d((0u32..count - 1).into_segmented(), 0u32..highest + 1)?;
                chart
                    .configure_mesh()
                    .disable_x_mesh()
                    .light_line_style(WHITE)
                    .x_labels(count as usize)
                    .x_label_formatter(&label)
                    .y_desc(y_desc)
                    .draw()?;
                // Rectangles in order (plotters' Histogram gathers bars in a HashMap, whose
                // order would make the page differ from run to run).
                chart.draw_series(values.iter().enumerate().map(|(index, value)| {
                    let index = index as u32;
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(index), 0),
                            (SegmentValue::Exact(index + 1), *value),
                        ],
                        color.filled(),
                    );
                    bar.set_margin(0, 0, 6, 6);
                    bar
                }))?;
                area.present()?;
                Ok(())
            });
        drawn.map_err(|error| anyhow!("Failed to draw a chart: {error}"))?;
    }
    Ok(format!("<div class=\"chart\">{text}</div>\n"))
}

fn percent(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

/// At most [`WRONG_OUTPUT_CHARS`] characters, marked when cut.
fn cut(text: &str) -> String {
    let text = text.trim_end();
    match text.char_indices().nth(WRONG_OUTPUT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Text for HTML (element content and quoted attributes).
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests;
