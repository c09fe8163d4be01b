//! Numbers into words: medians, ratios, the targets of issue 9 and whether time grows linearly.

use std::time::Duration;

pub fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}

pub fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

pub fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

pub fn ratio(value: Duration, floor: Duration) -> f64 {
    value.as_secs_f64() / floor.as_secs_f64().max(1e-9)
}

/// "met" or "MISSED", for a target line.
pub fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

/// How time grows with N: the marginal cost per resource between consecutive sizes.
pub struct Growth {
    /// (from N, to N, seconds per added resource)
    pub marginal: Vec<(usize, usize, f64)>,
}

impl Growth {
    /// `points`: (N, median time), any order.
    pub fn of(points: &[(usize, Duration)]) -> Growth {
        let mut points = points.to_vec();
        points.sort();
        let marginal = points
            .windows(2)
            .map(|w| {
                let ((n0, t0), (n1, t1)) = (w[0], w[1]);
                let per = (t1.as_secs_f64() - t0.as_secs_f64()) / (n1 - n0) as f64;
                (n0, n1, per)
            })
            .collect();
        Growth { marginal }
    }

    /// Linear when the cost of an added resource at the largest sizes is within 1.5x of its
    /// cost at the smallest (a fixed start-up cost does not count; measurement noise on a
    /// busy machine does, hence the margin).
    pub fn is_linear(&self) -> Option<bool> {
        let first = self.marginal.first()?.2;
        let last = self.marginal.last()?.2;
        Some(last <= first.max(1e-6) * 1.5)
    }

    pub fn describe(&self) -> String {
        let costs = self
            .marginal
            .iter()
            .map(|(a, b, per)| format!("{a}→{b}: {:.2} ms", per * 1000.0))
            .collect::<Vec<_>>()
            .join(", ");
        match self.is_linear() {
            Some(true) => format!("linear ({costs} per resource)"),
            Some(false) => format!("NOT linear ({costs} per resource)"),
            None => "needs two sizes".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let ms = Duration::from_millis;
        assert_eq!(median(&[ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(
            median(&[ms(4), ms(1), ms(2), ms(3)]),
            Duration::from_micros(2500)
        );
    }

    #[test]
    fn linear_and_superlinear_growth() {
        let s = Duration::from_secs_f64;
        let linear = Growth::of(&[(300, s(3.4)), (100, s(1.4)), (1000, s(10.4))]);
        assert_eq!(linear.is_linear(), Some(true));
        let quadratic = Growth::of(&[(100, s(0.1)), (300, s(0.9)), (1000, s(10.0))]);
        assert_eq!(quadratic.is_linear(), Some(false));
        assert_eq!(Growth::of(&[(100, s(1.0))]).is_linear(), None);
    }
}
