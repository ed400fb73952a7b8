//! Criterion benchmark of a full cut design (shortcut + rigorous stage search), issue 4's
//! performance target: beta = 1.5, equimolar aqueous feed, 99.99 % / 99.99 %, in under 1 s.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use sxplan_design::shortcut::{FeedPhase, Reflux};
use sxplan_design::{binary_spec, design_cut, SearchOptions, SearchStatus};

fn full_design(c: &mut Criterion) {
    let mut g = c.benchmark_group("design");
    g.sample_size(10);
    let cases = [
        ("beta1.5_9999_9999", 1.5, 0.9999, 0.9999),
        ("beta2_999_9999_zhang", 2.0, 0.999, 0.9999),
    ];
    for (name, beta, pa, pb) in cases {
        let spec = binary_spec(beta, 0.5, pa, pb, FeedPhase::Aqueous, Reflux::XuOptimum);
        let options = SearchOptions::default();
        // Sanity: the benchmarked work is a design that is found.
        let d = design_cut(&spec, &options).expect("valid spec");
        assert_eq!(d.rigorous.status, SearchStatus::Found);
        g.bench_function(name, |b| {
            b.iter(|| design_cut(black_box(&spec), black_box(&options)))
        });
    }
    g.finish();
}

criterion_group!(benches, full_design);
criterion_main!(benches);
