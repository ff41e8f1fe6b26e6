//! A packed single-precision GEMM for x86-64 CPUs with AVX-512, used by the host GEMM in
//! place of `matrixmultiply` where the CPU has it.
//!
//! The classic blocked layout: B is copied in blocks of `kc` rows into panels of
//! [`NR`] columns (or, for a few rows of A and contiguous rows of B, read in place), A in blocks of [`MC`] rows and `kc` columns into panels of [`MR`] rows, so
//! the register kernel reads both contiguously. The kernel keeps an 8x32 tile of C in
//! sixteen 512-bit registers; per step of k it loads two vectors of B and broadcasts eight
//! values of A into sixteen FMAs. With 32 vector registers the tile is twice the area the
//! 16-register AVX2 kernels can hold, so each FMA needs half the loads.
//!
//! Each element of C is the sum over k in ascending order within a block of at most
//! [`KC_MAX`] rows, blocks added in order; the block size depends on k alone. Splitting C
//! into bands of rows or columns (as the host GEMM does for threads) therefore never
//! changes a bit of the result.

use std::arch::x86_64::*;
use std::cell::RefCell;

/// Rows of C per register tile.
const MR: usize = 8;
/// Columns of C per register tile (two 16-lane vectors).
const NR: usize = 32;
/// Largest block of k: a packed panel of A (8 x 384 floats, 12 KiB) stays in L1.
const KC_MAX: usize = 384;
/// Rows of A per packed block (128 x 384 floats, 192 KiB, in L2 beside B's block).
const MC: usize = 128;
/// Most floats of B per packed block (768 KiB, within L2 beside A's block): 16 panels of
/// the deepest block, more of a shallower one.
const NC_FLOATS: usize = 16 * NR * KC_MAX;

/// Rows of A up to which B is read in place when its rows are contiguous.
const IN_PLACE_ROWS: usize = 2 * MR;

/// Whether [`sgemm`] is used: this CPU has AVX-512F, and `DLC_GEMM` does not say
/// `portable` (which selects `matrixmultiply`, to compare the two or rule this one out).
pub fn available() -> bool {
    static USE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *USE.get_or_init(|| {
        let portable = std::env::var("DLC_GEMM").is_ok_and(|v| v == "portable");
        !portable && is_x86_feature_detected!("avx512f")
    })
}

thread_local! {
    /// Each thread's packing buffers for A and B, grown on demand and kept.
    static PACKED: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// `C = alpha * A * B + beta * C`, with the contract of `dlc_sgemm` (strides in elements;
/// when `beta == 0`, C is only written).
///
/// # Safety
/// As `dlc_sgemm`; in addition the CPU must support AVX-512F ([`available`]).
#[allow(clippy::too_many_arguments)]
pub unsafe fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    alpha: f32,
    a: *const f32,
    (rsa, csa): (isize, isize),
    b: *const f32,
    (rsb, csb): (isize, isize),
    beta: f32,
    c: *mut f32,
    (rsc, csc): (isize, isize),
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        // SAFETY: C's elements are valid and writable (caller's contract).
        unsafe { scale(m, n, beta, c, rsc, csc) };
        return;
    }
    let k_blocks = k.div_ceil(KC_MAX);
    let kc = k.div_ceil(k_blocks);
    let panels = n.div_ceil(NR);
    let block_panels = (NC_FLOATS / (NR * kc)).max(1);
    let nc = panels.div_ceil(panels.div_ceil(block_panels)) * NR;
    // With few rows of A, each panel of B serves only a tile or two: reading B's
    // contiguous rows in place costs less than copying them (a convolution's
    // 16x72x196 product per sample).
    let in_place = csb == 1 && rsb > 0 && m <= IN_PLACE_ROWS;
    PACKED.with(|cell| {
        let mut guard = cell.borrow_mut();
        let (packed_a, packed_b) = &mut *guard;
        let pa = aligned(packed_a, MC.min(m.next_multiple_of(MR)) * kc);
        let pb = if in_place {
            std::ptr::null_mut() // never read: B's panels are read where they are
        } else {
            aligned(packed_b, nc.min(n.next_multiple_of(NR)) * kc)
        };
        for jc in (0..n).step_by(nc) {
            let cols = nc.min(n - jc);
            for (block, pc) in (0..k).step_by(kc).enumerate() {
                let depth = kc.min(k - pc);
                let first = block == 0;
                // SAFETY: the blocks lie inside A, B and C; the buffers hold a whole block.
                unsafe {
                    let b_block = b.offset(pc as isize * rsb + jc as isize * csb);
                    if !in_place {
                        pack_b(depth, cols, b_block, rsb, csb, pb);
                    }
                    for ic in (0..m).step_by(MC) {
                        let rows = MC.min(m - ic);
                        let a_block = a.offset(ic as isize * rsa + pc as isize * csa);
                        pack_a(rows, depth, a_block, rsa, csa, pa);
                        for ir in (0..rows).step_by(MR) {
                            let a_panel = pa.add(ir * depth);
                            for jr in (0..cols).step_by(NR) {
                                let tile = Tile {
                                    c: c.offset((ic + ir) as isize * rsc + (jc + jr) as isize * csc),
                                    rsc,
                                    csc,
                                    rows: MR.min(rows - ir),
                                    cols: NR.min(cols - jr),
                                };
                                let scale = if first { Some(beta) } else { None };
                                let panel = if in_place {
                                    Panel { b: b_block.add(jr), rsb: rsb as usize, width: tile.cols }
                                } else {
                                    Panel { b: pb.add(jr * depth), rsb: NR, width: NR }
                                };
                                kernel(depth, a_panel, &panel, &tile, alpha, scale);
                            }
                        }
                    }
                }
            }
        }
    });
}

/// The first `len` floats of `buffer` from a 64-byte boundary, growing it as needed.
fn aligned(buffer: &mut Vec<f32>, len: usize) -> *mut f32 {
    const LANES: usize = 16;
    if buffer.len() < len + LANES {
        buffer.resize(len + LANES, 0.0);
    }
    let offset = buffer.as_ptr().align_offset(64).min(LANES);
    // SAFETY: `offset + len` is within the buffer.
    unsafe { buffer.as_mut_ptr().add(offset) }
}

/// `C = beta * C` (zeros when `beta == 0`, whatever C held).
unsafe fn scale(m: usize, n: usize, beta: f32, c: *mut f32, rsc: isize, csc: isize) {
    for i in 0..m as isize {
        for j in 0..n as isize {
            // SAFETY: (i, j) is an element of C.
            unsafe {
                let x = c.offset(i * rsc + j * csc);
                *x = if beta == 0.0 { 0.0 } else { beta * *x };
            }
        }
    }
}

/// Where one register tile of C goes: `rows x cols` of at most `MR x NR`.
struct Tile {
    c: *mut f32,
    rsc: isize,
    csc: isize,
    rows: usize,
    cols: usize,
}

/// One panel of B as the kernel reads it: step `p` at `b + p * rsb`, `width <= NR` floats
/// (packed: `rsb == NR`, zero-padded to the full width).
struct Panel {
    b: *const f32,
    rsb: usize,
    width: usize,
}

/// Lanes `0..count` of a 16-lane mask (`count` may exceed 16).
fn lanes(count: usize) -> __mmask16 {
    if count >= 16 {
        0xFFFF
    } else {
        ((1u32 << count) - 1) as __mmask16
    }
}

/// One tile: the product of an `MR x depth` panel of A and a `depth x NR` panel of B
/// (lanes past its width read as zero),
/// stored into the tile as `alpha * AB + beta * C` (`scale == Some(beta)`, the first block
/// of k) or added to it (`None`, later blocks).
#[target_feature(enable = "avx512f")]
unsafe fn kernel(
    depth: usize,
    a: *const f32,
    panel: &Panel,
    tile: &Tile,
    alpha: f32,
    scale: Option<f32>,
) {
    let mut acc = [[_mm512_setzero_ps(); 2]; MR];
    let (b, rsb) = (panel.b, panel.rsb);
    let (mask0, mask1) = (lanes(panel.width), lanes(panel.width.saturating_sub(16)));
    for p in 0..depth {
        // SAFETY: A's panel holds `depth` steps of MR floats; the masked lanes of B's
        // steps are elements of the panel. The second half's address may lie past a
        // narrow panel's end (wrapping arithmetic): its mask is then empty, and a masked
        // load touches no lane it masks off.
        unsafe {
            let b0 = _mm512_maskz_loadu_ps(mask0, b.add(p * rsb));
            let b1 = _mm512_maskz_loadu_ps(mask1, b.wrapping_add(p * rsb + 16));
            let a = a.add(p * MR);
            for (i, row) in acc.iter_mut().enumerate() {
                let ai = _mm512_set1_ps(*a.add(i));
                row[0] = _mm512_fmadd_ps(ai, b0, row[0]);
                row[1] = _mm512_fmadd_ps(ai, b1, row[1]);
            }
        }
    }
    let alpha = _mm512_set1_ps(alpha);
    let masks = [lanes(tile.cols), lanes(tile.cols.saturating_sub(16))];
    for (i, row) in acc.iter().enumerate().take(tile.rows) {
        // SAFETY: row i < tile.rows and the masked lanes < tile.cols are elements of C.
        unsafe {
            let c_row = tile.c.offset(i as isize * tile.rsc);
            for (half, (&sum, &mask)) in row.iter().zip(&masks).enumerate() {
                let product = _mm512_mul_ps(sum, alpha);
                if tile.csc == 1 {
                    let at = c_row.wrapping_add(half * 16);
                    let value = match scale {
                        Some(0.0) => product,
                        Some(beta) => {
                            let old = _mm512_maskz_loadu_ps(mask, at);
                            _mm512_fmadd_ps(old, _mm512_set1_ps(beta), product)
                        }
                        None => _mm512_add_ps(_mm512_maskz_loadu_ps(mask, at), product),
                    };
                    _mm512_mask_storeu_ps(at, mask, value);
                } else {
                    let mut values = [0.0f32; 16];
                    _mm512_storeu_ps(values.as_mut_ptr(), product);
                    let count = tile.cols.saturating_sub(half * 16).min(16);
                    for (j, &value) in values.iter().enumerate().take(count) {
                        let at = c_row.offset((half * 16 + j) as isize * tile.csc);
                        *at = match scale {
                            Some(0.0) => value,
                            Some(beta) => (*at).mul_add(beta, value),
                            None => *at + value,
                        };
                    }
                }
            }
        }
    }
}

/// Copies `rows x depth` of A (element `(i, p)` at `a + i * rsa + p * csa`) into panels of
/// MR rows, each stored as `depth` steps of MR floats; rows past `rows` are zero.
unsafe fn pack_a(rows: usize, depth: usize, a: *const f32, rsa: isize, csa: isize, to: *mut f32) {
    for (panel, i0) in (0..rows).step_by(MR).enumerate() {
        let height = MR.min(rows - i0);
        // SAFETY: the panel lies inside the block of A and the buffer.
        unsafe {
            let from = a.offset(i0 as isize * rsa);
            let to = to.add(panel * MR * depth);
            if height == MR && csa == 1 {
                transpose_rows(from, rsa, depth, to, MR);
            } else if height == MR && rsa == 1 {
                copy_columns(from, csa, depth, to);
            } else {
                pack_strided::<MR>(depth, height, from, csa, rsa, to);
            }
        }
    }
}

/// Copies `depth x cols` of B (element `(p, j)` at `b + p * rsb + j * csb`) into panels of
/// NR columns, each stored as `depth` steps of NR floats; columns past `cols` are zero.
unsafe fn pack_b(depth: usize, cols: usize, b: *const f32, rsb: isize, csb: isize, to: *mut f32) {
    for (panel, j0) in (0..cols).step_by(NR).enumerate() {
        let width = NR.min(cols - j0);
        // SAFETY: the panel lies inside the block of B and the buffer.
        unsafe {
            let from = b.offset(j0 as isize * csb);
            let to = to.add(panel * NR * depth);
            if csb == 1 {
                copy_rows(from, rsb, depth, width, to);
            } else if rsb == 1 && width == NR {
                for group in 0..NR / 8 {
                    let columns = from.offset((group * 8) as isize * csb);
                    transpose_rows(columns, csb, depth, to.add(group * 8), NR);
                }
            } else {
                pack_strided::<NR>(depth, width, from, rsb, csb, to);
            }
        }
    }
}

/// Any layout, one float at a time: step `p`, lane `l < valid` from
/// `from + p * step + l * lane`, lanes past `valid` zero; `depth` steps of `PANEL` floats.
unsafe fn pack_strided<const PANEL: usize>(
    depth: usize,
    valid: usize,
    from: *const f32,
    step: isize,
    lane: isize,
    to: *mut f32,
) {
    for p in 0..depth {
        for l in 0..PANEL {
            // SAFETY: lanes below `valid` of `depth` steps are elements of the source;
            // the panel holds `depth * PANEL` floats.
            unsafe {
                *to.add(p * PANEL + l) = if l < valid {
                    *from.offset(p as isize * step + l as isize * lane)
                } else {
                    0.0
                };
            }
        }
    }
}

/// Panel steps of A that are contiguous (A stored transposed): `depth` runs of MR floats.
#[target_feature(enable = "avx2")]
unsafe fn copy_columns(from: *const f32, csa: isize, depth: usize, to: *mut f32) {
    for p in 0..depth {
        // SAFETY: column p of the panel's MR rows is contiguous in A; the panel holds
        // MR floats per step.
        unsafe {
            let v = _mm256_loadu_ps(from.offset(p as isize * csa));
            _mm256_storeu_ps(to.add(p * MR), v);
        }
    }
}

/// Panel rows of B that are contiguous: `depth` rows of `width <= NR` floats, zero-padded.
#[target_feature(enable = "avx512f")]
unsafe fn copy_rows(from: *const f32, rsb: isize, depth: usize, width: usize, to: *mut f32) {
    let masks = [lanes(width), lanes(width.saturating_sub(16))];
    for p in 0..depth {
        // SAFETY: the masked lanes of row p are elements of B; the panel holds NR per row.
        unsafe {
            let row = from.offset(p as isize * rsb);
            for (half, &mask) in masks.iter().enumerate() {
                let v = _mm512_maskz_loadu_ps(mask, row.wrapping_add(half * 16));
                _mm512_storeu_ps(to.add(p * NR + half * 16), v);
            }
        }
    }
}

/// Eight source rows (row r at `from + r * stride`, `depth` contiguous floats each) written
/// as `depth` groups of eight (`to + p * pitch`, one value from each row), 8x8 at a time.
#[target_feature(enable = "avx2")]
unsafe fn transpose_rows(from: *const f32, stride: isize, depth: usize, to: *mut f32, pitch: usize) {
    let full = depth / 8 * 8;
    for p in (0..full).step_by(8) {
        // SAFETY: columns p..p+8 of the eight rows exist; the panel holds `depth` groups.
        unsafe {
            let row = |r: isize| _mm256_loadu_ps(from.offset(r * stride).add(p));
            let columns = transpose8(
                [row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7)],
            );
            for (q, column) in columns.iter().enumerate() {
                _mm256_storeu_ps(to.add((p + q) * pitch), *column);
            }
        }
    }
    for p in full..depth {
        for r in 0..8 {
            // SAFETY: as above, for the last columns.
            unsafe { *to.add(p * pitch + r) = *from.offset(r as isize * stride).add(p) };
        }
    }
}

/// The transpose of an 8x8 block held as eight rows.
#[target_feature(enable = "avx2")]
fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    let t0 = _mm256_unpacklo_ps(r[0], r[1]);
    let t1 = _mm256_unpackhi_ps(r[0], r[1]);
    let t2 = _mm256_unpacklo_ps(r[2], r[3]);
    let t3 = _mm256_unpackhi_ps(r[2], r[3]);
    let t4 = _mm256_unpacklo_ps(r[4], r[5]);
    let t5 = _mm256_unpackhi_ps(r[4], r[5]);
    let t6 = _mm256_unpacklo_ps(r[6], r[7]);
    let t7 = _mm256_unpackhi_ps(r[6], r[7]);
    let u0 = _mm256_shuffle_ps::<0x44>(t0, t2);
    let u1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
    let u2 = _mm256_shuffle_ps::<0x44>(t1, t3);
    let u3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
    let u4 = _mm256_shuffle_ps::<0x44>(t4, t6);
    let u5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
    let u6 = _mm256_shuffle_ps::<0x44>(t5, t7);
    let u7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
    [
        _mm256_permute2f128_ps::<0x20>(u0, u4),
        _mm256_permute2f128_ps::<0x20>(u1, u5),
        _mm256_permute2f128_ps::<0x20>(u2, u6),
        _mm256_permute2f128_ps::<0x20>(u3, u7),
        _mm256_permute2f128_ps::<0x31>(u0, u4),
        _mm256_permute2f128_ps::<0x31>(u1, u5),
        _mm256_permute2f128_ps::<0x31>(u2, u6),
        _mm256_permute2f128_ps::<0x31>(u3, u7),
    ]
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Deterministic values in [-0.5, 0.5).
    pub(in super::super) fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    struct Case {
        m: usize,
        n: usize,
        k: usize,
        a_t: bool,
        b_t: bool,
        c_t: bool,
    }

    /// Runs `sgemm` on the case and checks every element against an f64 sum.
    fn check(case: &Case, alpha: f32, beta: f32) {
        let Case { m, n, k, .. } = *case;
        let a = values(m * k, 1);
        let b = values(k * n, 2);
        let c0 = values(m * n, 3);
        let sa = if case.a_t { (1, m as isize) } else { (k as isize, 1) };
        let sb = if case.b_t { (1, k as isize) } else { (n as isize, 1) };
        let sc = if case.c_t { (1, m as isize) } else { (n as isize, 1) };
        let at = |x: (isize, isize), i: usize, j: usize| i * x.0 as usize + j * x.1 as usize;
        let mut c = c0.clone();
        // SAFETY: the buffers match the sizes and strides; the test runs only with AVX-512.
        unsafe {
            sgemm(
                m, n, k, alpha, a.as_ptr(), sa, b.as_ptr(), sb, beta, c.as_mut_ptr(), sc,
            )
        };
        for i in 0..m {
            for j in 0..n {
                let dot: f64 = (0..k)
                    .map(|p| a[at(sa, i, p)] as f64 * b[at(sb, p, j)] as f64)
                    .sum();
                let old = if beta == 0.0 { 0.0 } else { beta as f64 * c0[at(sc, i, j)] as f64 };
                let want = alpha as f64 * dot + old;
                let got = c[at(sc, i, j)] as f64;
                let tolerance = 1e-5 * (k as f64).sqrt() * (1.0 + want.abs());
                assert!(
                    (got - want).abs() <= tolerance,
                    "{m}x{n}x{k} a_t {} b_t {} c_t {} alpha {alpha} beta {beta}: \
                     C[{i}][{j}] = {got}, want {want}",
                    case.a_t,
                    case.b_t,
                    case.c_t
                );
            }
        }
    }

    #[test]
    fn matches_a_double_precision_product_on_every_layout_and_edge() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        // Edges of the 8x32 tile, of the 128-row block, two blocks of k (> 384), and two
        // blocks of B's columns (1000 > 30 panels of a 200-deep block).
        let sizes = [(1, 1, 1), (7, 33, 5), (8, 32, 16), (9, 31, 17), (130, 70, 400), (9, 1000, 400), (37, 83, 0)];
        for (m, n, k) in sizes {
            for layout in 0..8 {
                let case = Case { m, n, k, a_t: layout & 1 != 0, b_t: layout & 2 != 0, c_t: layout & 4 != 0 };
                for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (2.0, 0.5)] {
                    check(&case, alpha, beta);
                }
            }
        }
    }

    #[test]
    fn bands_of_rows_or_columns_give_the_same_bits() {
        if !available() {
            eprintln!("skipped: this CPU has no AVX-512F");
            return;
        }
        let (m, n, k) = (45, 100, 800);
        let a = values(m * k, 4);
        let b = values(k * n, 5);
        let run = |rows: std::ops::Range<usize>, cols: std::ops::Range<usize>, c: &mut [f32]| {
            // SAFETY: the band lies inside the row-major buffers.
            unsafe {
                sgemm(
                    rows.len(),
                    cols.len(),
                    k,
                    1.0,
                    a.as_ptr().add(rows.start * k),
                    (k as isize, 1),
                    b.as_ptr().add(cols.start),
                    (n as isize, 1),
                    0.0,
                    c.as_mut_ptr().add(rows.start * n + cols.start),
                    (n as isize, 1),
                )
            }
        };
        let mut whole = vec![0.0; m * n];
        run(0..m, 0..n, &mut whole);
        let mut by_rows = vec![0.0; m * n];
        run(0..13, 0..n, &mut by_rows);
        run(13..m, 0..n, &mut by_rows);
        let mut by_cols = vec![0.0; m * n];
        run(0..m, 0..41, &mut by_cols);
        run(0..m, 41..n, &mut by_cols);
        let bits = |c: &[f32]| c.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&whole), bits(&by_rows));
        assert_eq!(bits(&whole), bits(&by_cols));
    }
}
