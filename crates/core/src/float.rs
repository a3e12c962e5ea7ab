//! The scalar type of the CPU backend: `f32` for the runtime fallback, `f64` for the reference in tests.
//!
//! The trait adds to `num_traits::Float` the one thing the math needs from outside: a fast general matrix
//! product (crate::gemm: the `gemm` crate's SIMD kernels chosen at run time; large products split over the cores
//! on native targets).

use std::fmt::Debug;
use std::iter::Sum;

/// A matrix operand of the products: its elements and (row stride, column stride).
pub type Strided<'a, F> = (&'a [F], (usize, usize));

/// A floating-point scalar the CPU backend computes in.
pub trait Float: num_traits::Float + num_traits::FloatConst + Default + Debug + Sum + Send + Sync + 'static {
    /// Name used in test messages ("f32", "f64").
    const NAME: &'static str;

    /// Converts from f64 (rounding to nearest for f32).
    fn of(x: f64) -> Self;

    /// Converts to f64 exactly.
    fn f64(self) -> f64;

    /// eˣ for the softmax loops. f64 (the reference) uses libm's exp; f32 uses a branch-free polynomial
    /// that the compiler vectorises (≤ 2 ulp from libm, far inside every parity tolerance). −∞ gives 0.
    fn exp_fast(self) -> Self;

    /// An unsigned integer ordered as the values are in descending order (+∞ first; +0 before −0; NaN at the
    /// ends), so order statistics can select on integers with the machine's plain compare instead of a
    /// comparison closure (3× faster on the selection's rows, issue 14).
    type DescendingKey: Ord + Copy + Default + Send + Sync;

    /// The key of `self` (a bijection: `from_descending_key` inverts it bit for bit).
    fn descending_key(self) -> Self::DescendingKey;

    /// The value of a key.
    fn from_descending_key(key: Self::DescendingKey) -> Self;

    /// `C ← α·A·B + β·C` for row-major C (m×n). A is m×k and B is k×n, each given by a slice and
    /// (row stride, column stride), so a transpose is a swap of strides and costs nothing.
    #[allow(clippy::too_many_arguments)]
    fn gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: &[Self],
        a_strides: (usize, usize),
        b: &[Self],
        b_strides: (usize, usize),
        beta: Self,
        c: &mut [Self],
    );

    /// `A·B` as a new row-major m×n vector, without zeroing it first; A and B are (slice, (row stride, column
    /// stride)) as in `gemm`.
    fn product(m: usize, k: usize, n: usize, a: Strided<'_, Self>, b: Strided<'_, Self>) -> Vec<Self>;
}

/// eˣ in f32 without libm: x = n·ln 2 + r with n = round(x·log₂e) (Cody–Waite split of ln 2 for an exact
/// r ∈ [−ln2/2, ln2/2]), eʳ by Cephes' degree-7 polynomial, 2ⁿ by building the exponent bits. Rounding uses the
/// 1.5·2²³ trick, so the loop vectorises on baseline x86-64 (no SSE4.1 round instruction needed), and n's bits
/// are read from the rounded value (no float-to-integer conversion in the loop).
/// Inputs below −87.3 (including −∞) give 0; above 88.7 are clamped. NaN stays NaN.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const ROUND: f32 = 12_582_912.0; // 1.5·2²³
    let xc = x.clamp(-87.3, 88.7);
    // t = 1.5·2²³ + n exactly (n = round(x·log₂e) ∈ [−126, 128]), so t's bits are 0x4B40_0000 + n.
    let t = xc * LOG2E + ROUND;
    let n = t - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4_f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    // 2ⁿ from t's bits: shifting left by 23 drops everything above n's low 9 bits, leaving (n + 127) << 23.
    // (`n as i32` would be the same number, but its saturating conversion does not vectorise: it ran lane by
    // lane, half of a T1 step's loss.)
    let two_n = f32::from_bits(t.to_bits().wrapping_add(127) << 23);
    let y = er * two_n;
    if x < -87.3 {
        0.0
    } else if x.is_nan() {
        x
    } else {
        y
    }
}

macro_rules! impl_float {
    ($t:ty, $bits:ty, $name:literal, $exp:expr) => {
        impl Float for $t {
            const NAME: &'static str = $name;
            type DescendingKey = $bits;
            // Ascending: flip every bit of a negative (larger magnitude → smaller), set the sign bit of a
            // positive (above every negative); descending is its complement.
            #[inline(always)]
            fn descending_key(self) -> $bits {
                const SIGN: $bits = 1 << (<$bits>::BITS - 1);
                let b = self.to_bits();
                let ascending = if b & SIGN != 0 { !b } else { b | SIGN };
                !ascending
            }
            #[inline(always)]
            fn from_descending_key(key: $bits) -> Self {
                const SIGN: $bits = 1 << (<$bits>::BITS - 1);
                let ascending = !key;
                <$t>::from_bits(if ascending & SIGN != 0 { ascending & !SIGN } else { !ascending })
            }
            #[inline]
            fn of(x: f64) -> Self {
                x as $t
            }
            #[inline]
            fn f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn exp_fast(self) -> Self {
                $exp(self)
            }
            fn gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: &[Self],
                a_strides: (usize, usize),
                b: &[Self],
                b_strides: (usize, usize),
                beta: Self,
                c: &mut [Self],
            ) {
                crate::gemm::gemm(m, k, n, alpha, a, a_strides, b, b_strides, beta, c);
            }
            fn product(m: usize, k: usize, n: usize, a: Strided<'_, Self>, b: Strided<'_, Self>) -> Vec<Self> {
                crate::gemm::product(m, k, n, a, b)
            }
        }
    };
}

impl_float!(f32, u32, "f32", exp_f32);
impl_float!(f64, u64, "f64", f64::exp);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descending_keys_order_values_downwards_and_invert_bit_for_bit() {
        let values = [f32::INFINITY, 3.5, 1.0, 1e-30, 0.0, -0.0, -1e-30, -1.0, -3.5, f32::NEG_INFINITY];
        let keys: Vec<u32> = values.iter().map(|v| v.descending_key()).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        for v in values.into_iter().chain([f32::NAN, -f32::NAN, f32::MIN_POSITIVE, f32::MAX]) {
            assert_eq!(f32::from_descending_key(v.descending_key()).to_bits(), v.to_bits());
        }
        let mut r = crate::rng::rng(3, 0);
        let mut xs: Vec<f64> = (0..500).map(|_| crate::rng::normal(&mut r)).collect();
        let mut by_key = xs.clone();
        by_key.sort_by_key(|v| v.descending_key());
        xs.sort_by(|a, b| b.partial_cmp(a).unwrap());
        assert_eq!(by_key, xs);
    }

    #[test]
    fn fast_f32_exp_is_within_two_ulp_of_libm_over_the_whole_range() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let (got, want) = (exp_f32(x) as f64, (x as f64).exp());
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 2.5 * f32::EPSILON as f64, "worst relative error {worst:e}");
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(-200.0), 0.0);
        assert_eq!(exp_f32(0.0), 1.0);
        assert!(exp_f32(f32::NAN).is_nan());
    }

    /// 2ⁿ read from the rounded value's bits equals 2ⁿ built from `n as i32`, over the whole clamped range.
    #[test]
    fn two_to_the_n_from_bits_equals_the_integer_conversion() {
        let mut x = -100.0f32;
        while x < 100.0 {
            let xc = x.clamp(-87.3, 88.7);
            let t = xc * std::f32::consts::LOG2_E + 12_582_912.0;
            let n = t - 12_582_912.0;
            let by_conversion = f32::from_bits(((n as i32 + 127) as u32) << 23);
            let by_bits = f32::from_bits(t.to_bits().wrapping_add(127) << 23);
            assert_eq!(by_bits.to_bits(), by_conversion.to_bits(), "x = {x}, n = {n}");
            x += 0.0071;
        }
    }
}
