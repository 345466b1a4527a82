//! Paired timing of two contenders for benches on a shared, loaded machine.
//!
//! Criterion measures one function after another; when the load changes in
//! between, their ratio is meaningless. Here the two alternate in short batches
//! (the order flips every round), and the result is the median over rounds of
//! the per-round ratio, next to each contender's median time.

use std::time::Instant;

/// Median over `rounds` of (time of `b`) / (time of `a`), each round timing a
/// batch of `batch` calls of each, in alternating order. Returns the ratio and
/// the median µs per call of `a` and of `b`.
pub fn paired_ratio(a: &dyn Fn(), b: &dyn Fn(), rounds: usize, batch: u32) -> (f64, f64, f64) {
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        t.elapsed().as_secs_f64() * 1e6 / f64::from(batch)
    };
    for _ in 0..batch {
        a();
        b();
    }
    let (mut ratios, mut ta, mut tb) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (x, y) = if round % 2 == 0 {
            let x = time(a);
            (x, time(b))
        } else {
            let y = time(b);
            (time(a), y)
        };
        ratios.push(y / x);
        ta.push(x);
        tb.push(y);
    }
    (median(&mut ratios), median(&mut ta), median(&mut tb))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
