//! CSV loading: good files in both line-end styles, and for every kind of bad input, an error
//! that names the file, line and column.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use dlc::data::{self, CsvOptions, DataError, Dataset, FilePolicy, Targets};

const FIXTURES: &str = "tests/fixtures/data/csv";

/// Writes `content` to a file called `name` in a folder of its own (tests run in parallel
/// and reuse names) and returns its path.
fn write(name: &str, content: &[u8]) -> PathBuf {
    static NEXT_FOLDER: AtomicUsize = AtomicUsize::new(0);
    let folder = NEXT_FOLDER.fetch_add(1, Ordering::Relaxed).to_string();
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("data_csv")
        .join(folder)
        .join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}

/// The error message for loading `content` (written to a file called `name`) with
/// `options`, with the file's full path shortened back to `name`.
fn error_for(name: &str, content: &str, options: &CsvOptions) -> String {
    let path = write(name, content.as_bytes());
    let error = data::csv(&path, options, &FilePolicy::default()).unwrap_err();
    error.to_string().replace(&path.display().to_string(), name)
}

/// `content` (written to a file called `name`) loaded with `options`.
fn read(name: &str, content: &str, options: &CsvOptions) -> Result<Dataset, DataError> {
    let path = write(name, content.as_bytes());
    data::csv(&path, options, &FilePolicy::default())
}

fn label(column: &str) -> CsvOptions {
    CsvOptions::label(column)
}

#[test]
fn loads_features_in_header_order_and_infers_classes() {
    let dataset = data::csv(
        &Path::new(FIXTURES).join("classes.csv"),
        &label("label"),
        &FilePolicy::default(),
    )
    .unwrap();
    assert_eq!(dataset.sample_shape(), [2]);
    assert_eq!(dataset.features(), [0.5, 1.5, -2.0, 300.0, 7.0, 8.0]);
    assert_eq!(
        *dataset.targets(),
        Targets::Classes {
            labels: vec![0, 2, 1],
            classes: 3
        }
    );
    let fixed = label("label").with_classes(5);
    let dataset = data::csv(
        &Path::new(FIXTURES).join("classes.csv"),
        &fixed,
        &FilePolicy::default(),
    )
    .unwrap();
    assert_eq!(dataset.classes(), Some(5));
}

#[test]
fn reads_crlf_quotes_spaces_and_trailing_blank_lines_for_regression() {
    let path = Path::new(FIXTURES).join("regression_crlf.csv");
    let dataset = data::csv(
        &path,
        &CsvOptions::values(&["t2", "target one"]),
        &FilePolicy::default(),
    )
    .unwrap();
    assert_eq!(dataset.len(), 2);
    assert_eq!(dataset.features(), [1.0, 2.5, 5.0, 6.0]);
    assert_eq!(
        *dataset.targets(),
        Targets::Values {
            values: vec![4.0, 3.0, -8.0, 7.0],
            width: 2
        }
    );
}

#[test]
fn other_delimiters_and_whole_float_labels_are_accepted() {
    let path = write("semicolons.csv", b"a;b;y\n1;2;3.0\n4;5;0\n");
    let dataset = data::csv(
        &path,
        &label("y").with_delimiter(';'),
        &FilePolicy::default(),
    )
    .unwrap();
    assert_eq!(dataset.features(), [1.0, 2.0, 4.0, 5.0]);
    assert_eq!(
        *dataset.targets(),
        Targets::Classes {
            labels: vec![3, 0],
            classes: 4
        }
    );
}

#[test]
fn a_header_without_rows_is_an_empty_data_set() {
    let dataset: Dataset = data::csv(
        &write("header.csv", b"a,b,y\n"),
        &label("y"),
        &FilePolicy::default(),
    )
    .unwrap();
    assert!(dataset.is_empty());
    assert_eq!(dataset.sample_shape(), [2]);
}

#[test]
fn a_bad_number_is_reported_at_its_line_and_column() {
    let path = Path::new(FIXTURES).join("digits_bad.csv");
    let error = data::csv(&path, &label("digit"), &FilePolicy::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("{}:14:23: expected a number, found \"12a\"", path.display())
    );
    assert!(matches!(
        error,
        DataError::Parse {
            line: 14,
            column: 23,
            ..
        }
    ));
}

#[test]
fn positions_stay_right_after_quoted_fields_that_span_lines() {
    let content = "note,x,y\n\"two\nlines\",1,0\nok,oops,1\n";
    assert_eq!(
        error_for("multiline.csv", content, &CsvOptions::values(&["y"])),
        "multiline.csv:2:1: expected a number, found \"two\\nlines\""
    );
    // The first field spans lines 2 and 3 (and holds a number); the bad one follows it.
    let content = "a,b,y\n\"\n5\",oops,0\n";
    assert_eq!(
        error_for("after.csv", content, &label("y")),
        "after.csv:3:4: expected a number, found \"oops\""
    );
    let content = "a,b,y\n\"1\",\"2\",0\n3,4,\"x\"\n";
    assert_eq!(
        error_for("later.csv", content, &label("y")),
        "later.csv:3:5: expected a class index (a whole number from 0) like the other labels, found \"x\""
    );
}

const IMPUTE_HELP: &str = "help: fill the value in, or add `impute mean`, `impute median` or \
     `impute zero` to the data item to fill missing features from the training part";

#[test]
fn a_missing_value_is_an_error_at_its_cell_naming_the_column() {
    assert_eq!(
        error_for("empty_field.csv", "a,b,y\n1,,0\n", &label("y")),
        format!(
            "empty_field.csv:2:3: missing value in column \"b\": found an empty field\n{IMPUTE_HELP}"
        )
    );
    assert_eq!(
        error_for("nan.csv", "a,b,y\n1,2,0\n3,NaN,1\n", &label("y")),
        format!("nan.csv:3:3: missing value in column \"b\": found \"NaN\"\n{IMPUTE_HELP}")
    );
    // Every marker, in any case, with spaces around it.
    for marker in ["NA", "na", " N/A ", "nan", "NULL", "?"] {
        let text = format!("a,b,y\n1,2,0\n{marker},4,1\n");
        let message = error_for("markers.csv", &text, &label("y"));
        assert!(
            message.starts_with("markers.csv:3:1: missing value in column \"a\""),
            "{marker:?}: {message}"
        );
    }
}

#[test]
fn a_missing_feature_may_be_kept_but_a_missing_label_or_target_may_not() {
    let kept = read(
        "kept.csv",
        "a,b,y\n1,NA,0\n,4,1\n",
        &label("y").with_missing_kept(),
    )
    .unwrap();
    let f = kept.features();
    assert!(
        f[0] == 1.0 && f[1].is_nan() && f[2].is_nan() && f[3] == 4.0,
        "{f:?}"
    );
    let target_help =
        "help: a missing label or target cannot be imputed: fill it in, or remove the row";
    assert_eq!(
        error_for(
            "label.csv",
            "a,y\n1,0\n2,NA\n",
            &label("y").with_missing_kept()
        ),
        format!("label.csv:3:3: missing value in column \"y\": found \"NA\"\n{target_help}")
    );
    let values = CsvOptions::values(&["t"]).with_missing_kept();
    assert_eq!(
        error_for("target.csv", "t,a\n,1\n", &values),
        format!(
            "target.csv:2:1: missing value in column \"t\": found an empty field\n{target_help}"
        )
    );
}

#[test]
fn non_finite_values_are_rejected() {
    assert_eq!(
        error_for("inf.csv", "a,y\ninf,0\n", &CsvOptions::values(&["y"])),
        "inf.csv:2:1: expected a finite number, found \"inf\""
    );
}

#[test]
fn bad_labels_name_the_value_and_the_rule() {
    let expected = "a class index (a whole number from 0)";
    for (value, shown) in [("2.5", "\"2.5\""), ("-1", "\"-1\"")] {
        let content = format!("a,y\n1,{value}\n");
        assert_eq!(
            error_for("label.csv", &content, &label("y")),
            format!("label.csv:2:3: expected {expected}, found {shown}")
        );
    }
}

#[test]
fn a_label_beyond_the_given_classes_is_out_of_range() {
    let mut content = String::from("a,digit\n");
    for row in 0..60 {
        content += &format!("{row},{}\n", if row == 57 { 10 } else { row % 10 });
    }
    assert_eq!(
        error_for("range.csv", &content, &label("digit").with_classes(10)),
        "range.csv:59:4: label 10 in row 57 is out of range for 10 classes (0..=9)"
    );
}

#[test]
fn a_row_with_the_wrong_number_of_fields_names_both_counts() {
    let header: Vec<String> = (0..64)
        .map(|i| format!("p{i}"))
        .chain(["digit".into()])
        .collect();
    let full = vec!["0"; 65].join(",");
    let short = vec!["0"; 64].join(",");
    let content = format!("{}\n{full}\n{short}\n", header.join(","));
    assert_eq!(
        error_for("digits.csv", &content, &label("digit")),
        "digits.csv:3: expected 65 columns (as in the header), found 64; \
         every row needs one value per header column"
    );
}

#[test]
fn a_missing_column_lists_the_columns_and_suggests_a_near_name() {
    let header: Vec<String> = (0..64)
        .map(|i| format!("p{i}"))
        .chain(["digits".into()])
        .collect();
    let content = format!("{}\n", header.join(","));
    assert_eq!(
        error_for("digits.csv", &content, &label("digit")),
        "digits.csv: column \"digit\" not found in the header; columns are: \
         p0, p1, p2, ..., p63, digits; did you mean \"digits\"?"
    );
    assert_eq!(
        error_for("iris.csv", "sepal,petal,species\n", &label("class")),
        "iris.csv: column \"class\" not found in the header; columns are: sepal, petal, species"
    );
}

#[test]
fn a_duplicated_target_column_is_ambiguous() {
    assert_eq!(
        error_for("dup.csv", "y,a,y\n1,2,3\n", &label("y")),
        "dup.csv: column \"y\" appears twice in the header (columns 1 and 3); rename one of them"
    );
}

#[test]
fn structural_problems_point_at_the_right_place() {
    assert_eq!(
        error_for("empty.csv", "\n\n", &label("y")),
        "empty.csv:1:1: expected a header line naming the columns, found an empty file"
    );
    assert_eq!(
        error_for("quote.csv", "a,y\n1,0\n\"2,1\n", &label("y")),
        "quote.csv:3:1: expected a closing quote for the field that starts here, \
         found the end of the file"
    );
    assert_eq!(
        error_for("only_label.csv", "y\n1\n", &label("y")),
        "only_label.csv: expected at least one feature column besides the targets, \
         found only the target columns (y)"
    );
    let path = write("latin1.csv", b"a,y\n1,0\n2\xe9,1\n");
    let message = data::csv(&path, &label("y"), &FilePolicy::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        message,
        format!(
            "{}:3:2: expected UTF-8 text, found the byte 0xe9",
            path.display()
        )
    );
}

#[test]
fn a_missing_file_names_the_path() {
    let path = Path::new("no/such/file.csv");
    let message = data::csv(path, &label("y"), &FilePolicy::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.starts_with("no/such/file.csv: cannot read the file: "),
        "{message}"
    );
}

#[test]
fn labels_written_as_names_are_classes_in_sorted_order() {
    let content = "a,species\n1,versicolor\n2,setosa\n3,virginica\n4,setosa\n";
    let dataset = read("names.csv", content, &label("species")).unwrap();
    assert_eq!(
        *dataset.targets(),
        Targets::Classes {
            labels: vec![1, 0, 2, 0],
            classes: 3
        }
    );
    assert_eq!(
        dataset.names().classes,
        ["setosa", "versicolor", "virginica"]
    );
    assert_eq!(dataset.names().features, ["a"]);
    // Another file read with those names gets the same classes, whatever
    // names it holds and in whatever order.
    let names: Vec<String> = dataset.names().classes.clone();
    let other = read(
        "other.csv",
        "a,species\n5,virginica\n",
        &label("species").with_class_names(&names),
    )
    .unwrap();
    assert_eq!(
        *other.targets(),
        Targets::Classes {
            labels: vec![2],
            classes: 3
        }
    );
}

#[test]
fn a_name_the_model_does_not_know_is_an_error_at_its_row() {
    let names = ["setosa".to_string(), "virginica".to_string()];
    let options = label("species").with_class_names(&names);
    assert_eq!(
        error_for("new.csv", "a,species\n1,setosa\n2,virginca\n", &options),
        "new.csv:3:3: label \"virginca\" is not one of the classes: setosa, virginica; did you mean \"virginica\"?\nhelp: the classes are those of the data the model was trained on"
    );
}

#[test]
fn declared_classes_must_match_the_names() {
    assert_eq!(
        error_for(
            "few.csv",
            "a,y\n1,cat\n2,dog\n",
            &label("y").with_classes(3)
        ),
        "few.csv: the labels name 2 classes (cat, dog), but the data item declares 3\nhelp: correct `classes`, or leave it out to count the names"
    );
}

#[test]
fn features_are_read_by_name_in_the_order_asked() {
    let content = "id,b,y,a\nx1,2,0,1\nx2,4,1,3\n";
    let wanted = ["a".to_string(), "b".to_string()];
    let dataset = read("named.csv", content, &label("y").with_features(&wanted)).unwrap();
    assert_eq!(dataset.features(), [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(dataset.names().features, ["a", "b"]);
    let missing = ["a".to_string(), "c".to_string()];
    let err = error_for("named.csv", content, &label("y").with_features(&missing));
    assert!(
        err.starts_with("named.csv: column \"c\" not found in the header"),
        "{err}"
    );
}
