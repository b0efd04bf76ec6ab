//! The benchmark's city-lots generator reproduces the recipe's Python data set: the recipe
//! names the `MAPBLKLOT` of five lines, and the first line is checked whole (its text was
//! produced by running the recipe with CPython 3.11).

#[path = "../../benches/support/citylots.rs"]
#[allow(dead_code)] // the benchmark uses the rest
mod citylots;

#[test]
fn generator_reproduces_the_recipes_lines() {
    let lines = citylots::features(200_001);
    let mapblklot = |i: usize| {
        let v: serde_json::Value = serde_json::from_str(&lines[i]).unwrap();
        v["properties"]["MAPBLKLOT"].as_str().unwrap().to_string()
    };
    for (line, want) in
        [(0, "0967234"), (1000, "3052030"), (50_000, "4799106"), (100_000, "3780186"), (200_000, "3062020")]
    {
        assert_eq!(mapblklot(line), want, "line {line}");
    }
    assert_eq!(
        lines[0],
        concat!(
            r#"{"type": "Feature", "properties": {"MAPBLKLOT": "0967234", "BLKLOT": "0967234", "BLOCK_NUM": "0967", "#,
            r#""LOT_NUM": "234", "FROM_ST": "1722", "TO_ST": "1724", "STREET": "CRANLEIGH", "ST_TYPE": "TER", "#,
            r#""ODD_EVEN": "E"}, "geometry": {"type": "Polygon", "coordinates": [[[-122.43773248917337, "#,
            r#"37.72867339560545, 0], [-122.43772191842213, 37.72884926541227, 0], [-122.4380797032833, "#,
            r#"37.72944642317793, 0], [-122.43726364300147, 37.72929737081458, 0], [-122.43758719992222, "#,
            r#"37.72880778393375, 0], [-122.43773248917337, 37.72867339560545, 0]]]}}"#
        )
    );
}

/// The recipe's rule sets give the same counts through the compiled matcher and through the
/// tree reader with `explain`, on the first 5,000 lines (the benchmark gates all of them).
#[test]
fn compiled_matcher_and_explain_agree_on_city_lots() {
    let lines = citylots::features(5_000);
    let rules = [
        r#"{"properties": {"STREET": [{"prefix": "AC"}, {"suffix": "ON"}]}}"#,
        r#"{"properties": {"MAPBLKLOT": [{"wildcard": "2*0*1*7"}, {"wildcard": "*218"}]}}"#,
        r#"{"properties": {"ST_TYPE": [{"anything-but": "ST"}], "STREET": [{"equals-ignore-case": "hyde"}]}}"#,
        r#"{"geometry": {"type": ["Polygon"], "coordinates": [{"numeric": ["<", -122.45]}]}}"#,
        r#"{"geometry": {"coordinates": [{"numeric": [">", 37.75, "<", 37.76]}]}}"#,
    ];
    let mut m = pattern::Matcher::new();
    for (i, r) in rules.iter().enumerate() {
        m.add(&i.to_string(), r).unwrap();
    }
    let parsed: Vec<_> = rules.iter().map(|r| pattern::Pattern::parse(r).unwrap()).collect();
    let mut scratch = pattern::Scratch::new();
    let mut total = 0;
    for line in &lines {
        let got = m.matches_with(line.as_bytes(), &mut scratch).unwrap().to_vec();
        let want: Vec<u32> = (0..rules.len() as u32)
            .filter(|&i| pattern::explain(&parsed[i as usize], line.as_bytes()).unwrap().is_none())
            .collect();
        assert_eq!(got, want, "{line}");
        total += got.len();
    }
    assert!(total > 1000, "the rules should match often; matched {total}");
}
