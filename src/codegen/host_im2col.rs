//! The im2col matrix of one image and col2im, computed on the host for
//! convolutions whose kernel moves one column at a time (stride 1 across).
//!
//! The inline code (`im2col.rs`) copies each run of an im2col row with
//! 128-bit moves and a scalar tail: a 3x3 kernel over a 14-wide image is a
//! thousand runs of fourteen floats per sample, and the copies cost more
//! than the matrix product they feed. Here one masked 512-bit load and store
//! move up to sixteen floats of a run, and the same mask writes the padding's
//! zeros around it, so each row of the matrix is written whole (no zeroing
//! pass first). col2im adds the runs back in the inline code's order
//! (channel, kernel row, kernel column, output row), so each input's
//! gradient is the same sum in the same order: the same bits.

/// The name under which [`dlc_im2col`] is registered with the JIT.
pub const HOST_IM2COL_SYMBOL: &str = "dlc_im2col";
/// The name under which [`dlc_col2im`] is registered with the JIT.
pub const HOST_COL2IM_SYMBOL: &str = "dlc_col2im";

/// Whether kernels call the host routines: the CPU has AVX-512F (and
/// `DLC_GEMM=portable`, which turns dlc's AVX-512 code off, is not set).
pub fn available() -> bool {
    super::gemm::avx512_available()
}

/// The sizes of one convolution as the routines take them (stride 1 across).
#[derive(Clone, Copy, Debug)]
struct Sizes {
    c: usize,
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    stride_y: usize,
    pad_y: usize,
    pad_x: usize,
}

impl Sizes {
    /// Output columns `[lo, hi)` of kernel column `j` whose input column is
    /// inside the image.
    fn inside(&self, j: usize) -> (usize, usize) {
        let lo = self.pad_x.saturating_sub(j);
        let hi = (self.w + self.pad_x).saturating_sub(j).min(self.ow);
        (lo.min(hi), hi)
    }

    /// The input row under output row `oy` for kernel row `i`, if inside.
    fn input_row(&self, oy: usize, i: usize) -> Option<usize> {
        (oy * self.stride_y + i)
            .checked_sub(self.pad_y)
            .filter(|&iy| iy < self.h)
    }

    /// Floats of the image.
    fn image(&self) -> usize {
        self.c * self.h * self.w
    }
}

/// The size arguments the generated code passes, in its order: the
/// channels, the image's height and width, the kernel's, the output's, the
/// vertical stride and the vertical and horizontal padding.
pub type SizeArgs = [u64; 10];

fn sizes(a: &SizeArgs) -> Sizes {
    let [c, h, w, kh, kw, oh, ow, stride_y, pad_y, pad_x] = a.map(|v| v as usize);
    Sizes {
        c,
        h,
        w,
        kh,
        kw,
        oh,
        ow,
        stride_y,
        pad_y,
        pad_x,
    }
}

/// Writes the whole `c*kh*kw x oh*ow` im2col matrix of `image` to `col`.
///
/// # Safety
/// `image` must hold `c*h*w` floats and `col` `c*kh*kw*oh*ow` writable ones
/// apart from it; the sizes must be those of a convolution at horizontal
/// stride 1 (`ow = w + 2*pad_x - kw + 1`).
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn dlc_im2col(
    image: *const f32,
    col: *mut f32,
    c: u64,
    h: u64,
    w: u64,
    kh: u64,
    kw: u64,
    oh: u64,
    ow: u64,
    stride_y: u64,
    pad_y: u64,
    pad_x: u64,
) {
    let s = sizes(&[c, h, w, kh, kw, oh, ow, stride_y, pad_y, pad_x]);
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: the CPU has AVX-512F; the caller gives the buffers.
        unsafe { avx512::im2col(&s, image, col) };
        return;
    }
    // SAFETY: the caller gives the buffers.
    unsafe { scalar::im2col(&s, image, col) }
}

/// `image = col2im(col)`: zeroes the image's `c*h*w` floats, then adds every
/// element of `col` to the input it was taken from.
///
/// # Safety
/// As [`dlc_im2col`], with `col` read and `image` written.
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn dlc_col2im(
    col: *const f32,
    image: *mut f32,
    c: u64,
    h: u64,
    w: u64,
    kh: u64,
    kw: u64,
    oh: u64,
    ow: u64,
    stride_y: u64,
    pad_y: u64,
    pad_x: u64,
) {
    let s = sizes(&[c, h, w, kh, kw, oh, ow, stride_y, pad_y, pad_x]);
    // SAFETY: the image holds `c*h*w` floats (caller's contract).
    unsafe { std::ptr::write_bytes(image, 0, s.image()) };
    #[cfg(target_arch = "x86_64")]
    if available() {
        // SAFETY: the CPU has AVX-512F; the caller gives the buffers.
        unsafe { avx512::col2im(&s, col, image) };
        return;
    }
    // SAFETY: the caller gives the buffers.
    unsafe { scalar::col2im(&s, col, image) }
}

/// One float at a time, in the same order: the reference the vector code is
/// tested against, and the code on CPUs without AVX-512.
mod scalar {
    use super::Sizes;

    /// # Safety
    /// As `dlc_im2col`.
    pub unsafe fn im2col(s: &Sizes, image: *const f32, col: *mut f32) {
        each_run(s, |row, channel, j, oy, iy| {
            let (lo, hi) = s.inside(j);
            for ox in 0..s.ow {
                let inside = iy.filter(|_| (lo..hi).contains(&ox));
                // SAFETY: the element of col is in its row; the input is in the image.
                unsafe {
                    *col.add((row * s.oh + oy) * s.ow + ox) = match inside {
                        Some(iy) => *image.add((channel * s.h + iy) * s.w + ox + j - s.pad_x),
                        None => 0.0,
                    };
                }
            }
        });
    }

    /// # Safety
    /// As `dlc_col2im`, the image zeroed.
    pub unsafe fn col2im(s: &Sizes, col: *const f32, image: *mut f32) {
        each_run(s, |row, channel, j, oy, iy| {
            let (lo, hi) = s.inside(j);
            let Some(iy) = iy else { return };
            for ox in lo..hi {
                // SAFETY: as in `im2col`.
                unsafe {
                    let at = image.add((channel * s.h + iy) * s.w + ox + j - s.pad_x);
                    *at += *col.add((row * s.oh + oy) * s.ow + ox);
                }
            }
        });
    }

    /// Calls `run(row, channel, j, oy, input row)` for every output row of
    /// every im2col row, in the order the inline code visits them.
    fn each_run(s: &Sizes, mut run: impl FnMut(usize, usize, usize, usize, Option<usize>)) {
        for channel in 0..s.c {
            for i in 0..s.kh {
                for j in 0..s.kw {
                    let row = (channel * s.kh + i) * s.kw + j;
                    for oy in 0..s.oh {
                        run(row, channel, j, oy, s.input_row(oy, i));
                    }
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::Sizes;
    use std::arch::x86_64::*;

    /// Lanes `[from, to)` of sixteen (bounds clamped to 0..16).
    fn lanes(from: isize, to: isize) -> __mmask16 {
        let below = |n: isize| -> u32 {
            if n <= 0 {
                0
            } else if n >= 16 {
                0xFFFF
            } else {
                (1u32 << n) - 1
            }
        };
        (below(to) & !below(from)) as __mmask16
    }

    /// # Safety
    /// The CPU must have AVX-512F; as `dlc_im2col`.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn im2col(s: &Sizes, image: *const f32, col: *mut f32) {
        for channel in 0..s.c {
            for i in 0..s.kh {
                for j in 0..s.kw {
                    let row = (channel * s.kh + i) * s.kw + j;
                    let (lo, hi) = s.inside(j);
                    for oy in 0..s.oh {
                        // SAFETY: output row oy of im2col row `row` is inside col.
                        let to = unsafe { col.add((row * s.oh + oy) * s.ow) };
                        let source = s.input_row(oy, i).map(|iy| {
                            // The element under output column 0 (maybe left of
                            // the row: only lanes inside it are loaded).
                            image
                                .wrapping_add((channel * s.h + iy) * s.w + j)
                                .wrapping_sub(s.pad_x)
                        });
                        for ox in (0..s.ow).step_by(16) {
                            let (start, end) = (ox as isize, s.ow.min(ox + 16) as isize);
                            let keep = lanes(0, end - start);
                            // SAFETY: the loaded lanes are columns lo..hi of an
                            // input row inside the image; the stored ones are
                            // columns of this output row.
                            unsafe {
                                let v = match source {
                                    Some(from) => {
                                        let take = lanes(lo as isize - start, hi as isize - start);
                                        _mm512_maskz_loadu_ps(take, from.wrapping_add(ox))
                                    }
                                    None => _mm512_setzero_ps(),
                                };
                                _mm512_mask_storeu_ps(to.add(ox), keep, v);
                            }
                        }
                    }
                }
            }
        }
    }

    /// # Safety
    /// The CPU must have AVX-512F; as `dlc_col2im`, the image zeroed.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn col2im(s: &Sizes, col: *const f32, image: *mut f32) {
        for channel in 0..s.c {
            for i in 0..s.kh {
                for j in 0..s.kw {
                    let row = (channel * s.kh + i) * s.kw + j;
                    let (lo, hi) = s.inside(j);
                    for oy in 0..s.oh {
                        let Some(iy) = s.input_row(oy, i) else {
                            continue;
                        };
                        // SAFETY: output row oy of im2col row `row` is inside col.
                        let from = unsafe { col.add((row * s.oh + oy) * s.ow) };
                        let to = image
                            .wrapping_add((channel * s.h + iy) * s.w + j)
                            .wrapping_sub(s.pad_x);
                        for ox in (lo..hi).step_by(16) {
                            let start = ox as isize;
                            let take = lanes(0, hi as isize - start);
                            // SAFETY: lanes ox..hi are columns of the input row
                            // inside the image, and of this output row.
                            unsafe {
                                let at = to.wrapping_add(ox);
                                let old = _mm512_maskz_loadu_ps(take, at);
                                let v = _mm512_maskz_loadu_ps(take, from.add(ox));
                                _mm512_mask_storeu_ps(at, take, _mm512_add_ps(old, v));
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 37.0 - 13.0)
            .collect()
    }

    #[test]
    fn the_vector_routines_give_the_scalar_bits_with_any_padding() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        // (c, h, w, kh, kw, stride_y, pad_y, pad_x): rows narrower and wider
        // than a vector, padding wider than the kernel, tall strides.
        let cases = [
            (1, 28, 28, 3, 3, 1, 1, 1),
            (8, 14, 14, 3, 3, 1, 1, 1),
            (2, 5, 37, 2, 5, 2, 0, 3),
            (3, 6, 4, 5, 5, 1, 3, 4),
            (1, 3, 40, 1, 18, 3, 2, 0),
        ];
        for (c, h, w, kh, kw, stride_y, pad_y, pad_x) in cases {
            let oh = (h + 2 * pad_y - kh) / stride_y + 1;
            let ow = w + 2 * pad_x - kw + 1;
            let args = [c, h, w, kh, kw, oh, ow, stride_y, pad_y, pad_x].map(|v| v as u64);
            let s = sizes(&args);
            let [c64, h64, w64, kh64, kw64, oh64, ow64, sy64, py64, px64] = args;
            let image = values(c * h * w, 1);
            let len = c * kh * kw * oh * ow;
            let mut want = vec![f32::NAN; len];
            let mut got = vec![f32::NAN; len];
            // SAFETY: the buffers have the sizes the routines address.
            unsafe {
                scalar::im2col(&s, image.as_ptr(), want.as_mut_ptr());
                dlc_im2col(image.as_ptr(), got.as_mut_ptr(), c64, h64, w64, kh64, kw64, oh64, ow64, sy64, py64, px64);
            }
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&got), bits(&want), "im2col {s:?}");
            let col = values(len, 2);
            let mut want = vec![f32::NAN; c * h * w];
            let mut got = vec![f32::NAN; c * h * w];
            // SAFETY: as above.
            unsafe {
                std::ptr::write_bytes(want.as_mut_ptr(), 0, want.len());
                scalar::col2im(&s, col.as_ptr(), want.as_mut_ptr());
                dlc_col2im(col.as_ptr(), got.as_mut_ptr(), c64, h64, w64, kh64, kw64, oh64, ow64, sy64, py64, px64);
            }
            assert_eq!(bits(&got), bits(&want), "col2im {s:?}");
        }
    }
}
