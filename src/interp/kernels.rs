//! Plain loops for the interpreter's non-trivial ops. Tensors are row-major;
//! images NCHW; matrices `[rows, cols]`.

use super::Real;
use crate::ir::PoolKind;

/// Row-major strides of a shape.
fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1];
    }
    s
}

/// For each element of `out`, the index into a tensor of shape `dims`
/// broadcast to it (size-1 axes repeat; rank 0 is a scalar).
fn broadcast_index(dims: &[usize], out: &[usize]) -> Vec<usize> {
    let total: usize = out.iter().product();
    if dims.is_empty() {
        return vec![0; total];
    }
    let src = strides(dims);
    let mut idx = vec![0usize; total];
    let ostr = strides(out);
    for (flat, slot) in idx.iter_mut().enumerate() {
        let mut s = 0;
        for a in 0..out.len() {
            let coord = (flat / ostr[a]) % out[a];
            if dims[a] != 1 {
                s += coord * src[a];
            }
        }
        *slot = s;
    }
    idx
}

pub fn expand<T: Real>(x: &[T], dims: &[usize], out: &[usize]) -> Vec<T> {
    broadcast_index(dims, out)
        .into_iter()
        .map(|i| x[i])
        .collect()
}

pub fn broadcast2<T: Real, R>(
    a: &[T],
    da: &[usize],
    b: &[T],
    db: &[usize],
    out: &[usize],
    f: impl Fn(T, T) -> R,
) -> Vec<R> {
    let ia = broadcast_index(da, out);
    let ib = broadcast_index(db, out);
    ia.into_iter().zip(ib).map(|(i, j)| f(a[i], b[j])).collect()
}

/// Reduces the listed axes (kept as size 1).
pub fn reduce<T: Real>(
    x: &[T],
    dims: &[usize],
    axes: &[usize],
    init: T,
    f: impl Fn(T, T) -> T,
) -> Vec<T> {
    let out_dims: Vec<usize> = dims
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let mut out = vec![init; out_dims.iter().product()];
    let idx = broadcast_index(&out_dims, dims);
    for (i, &o) in idx.iter().enumerate() {
        out[o] = f(out[o], x[i]);
    }
    out
}

pub fn matmul<T: Real>(a: &[T], da: &[usize], ta: bool, b: &[T], db: &[usize], tb: bool) -> Vec<T> {
    let (m, k) = if ta { (da[1], da[0]) } else { (da[0], da[1]) };
    let n = if tb { db[0] } else { db[1] };
    let at = |i: usize, p: usize| {
        if ta {
            a[p * da[1] + i]
        } else {
            a[i * da[1] + p]
        }
    };
    let bt = |p: usize, j: usize| {
        if tb {
            b[j * db[1] + p]
        } else {
            b[p * db[1] + j]
        }
    };
    let mut out = vec![T::zero(); m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = T::zero();
            for p in 0..k {
                s = s + at(i, p) * bt(p, j);
            }
            out[i * n + j] = s;
        }
    }
    out
}

/// The input position read by output position `o` at kernel offset `k`, if
/// it is inside the (unpadded) input.
fn source(o: usize, k: usize, stride: usize, pad: usize, size: usize) -> Option<usize> {
    (o * stride + k).checked_sub(pad).filter(|&i| i < size)
}

pub fn conv2d<T: Real>(
    x: &[T],
    dx: &[usize],
    w: &[T],
    dw: &[usize],
    stride: [usize; 2],
    pad: [usize; 2],
) -> Vec<T> {
    let (n, c, h, wd) = (dx[0], dx[1], dx[2], dx[3]);
    let (f, kh, kw) = (dw[0], dw[2], dw[3]);
    let oh = (h + 2 * pad[0] - kh) / stride[0] + 1;
    let ow = (wd + 2 * pad[1] - kw) / stride[1] + 1;
    let mut out = vec![T::zero(); n * f * oh * ow];
    for b in 0..n {
        for o in 0..f {
            for y in 0..oh {
                for xo in 0..ow {
                    let mut s = T::zero();
                    for ch in 0..c {
                        for i in 0..kh {
                            let Some(iy) = source(y, i, stride[0], pad[0], h) else {
                                continue;
                            };
                            for j in 0..kw {
                                let Some(ix) = source(xo, j, stride[1], pad[1], wd) else {
                                    continue;
                                };
                                s = s + x[((b * c + ch) * h + iy) * wd + ix]
                                    * w[((o * c + ch) * kh + i) * kw + j];
                            }
                        }
                    }
                    out[((b * f + o) * oh + y) * ow + xo] = s;
                }
            }
        }
    }
    out
}

pub fn conv2d_input_grad<T: Real>(
    dy: &[T],
    ddy: &[usize],
    w: &[T],
    dw: &[usize],
    xdims: &[usize],
    stride: [usize; 2],
    pad: [usize; 2],
) -> Vec<T> {
    let (n, c, h, wd) = (xdims[0], xdims[1], xdims[2], xdims[3]);
    let (f, kh, kw) = (dw[0], dw[2], dw[3]);
    let (oh, ow) = (ddy[2], ddy[3]);
    let mut dx = vec![T::zero(); n * c * h * wd];
    for b in 0..n {
        for o in 0..f {
            for y in 0..oh {
                for xo in 0..ow {
                    let g = dy[((b * f + o) * oh + y) * ow + xo];
                    for ch in 0..c {
                        for i in 0..kh {
                            let Some(iy) = source(y, i, stride[0], pad[0], h) else {
                                continue;
                            };
                            for j in 0..kw {
                                let Some(ix) = source(xo, j, stride[1], pad[1], wd) else {
                                    continue;
                                };
                                let at = ((b * c + ch) * h + iy) * wd + ix;
                                dx[at] = dx[at] + g * w[((o * c + ch) * kh + i) * kw + j];
                            }
                        }
                    }
                }
            }
        }
    }
    dx
}

pub fn conv2d_weight_grad<T: Real>(
    x: &[T],
    dx: &[usize],
    dy: &[T],
    ddy: &[usize],
    wdims: &[usize],
    stride: [usize; 2],
    pad: [usize; 2],
) -> Vec<T> {
    let (n, c, h, wd) = (dx[0], dx[1], dx[2], dx[3]);
    let (f, kh, kw) = (wdims[0], wdims[2], wdims[3]);
    let (oh, ow) = (ddy[2], ddy[3]);
    let mut dw = vec![T::zero(); f * c * kh * kw];
    for b in 0..n {
        for o in 0..f {
            for y in 0..oh {
                for xo in 0..ow {
                    let g = dy[((b * f + o) * oh + y) * ow + xo];
                    for ch in 0..c {
                        for i in 0..kh {
                            let Some(iy) = source(y, i, stride[0], pad[0], h) else {
                                continue;
                            };
                            for j in 0..kw {
                                let Some(ix) = source(xo, j, stride[1], pad[1], wd) else {
                                    continue;
                                };
                                let at = ((o * c + ch) * kh + i) * kw + j;
                                dw[at] = dw[at] + g * x[((b * c + ch) * h + iy) * wd + ix];
                            }
                        }
                    }
                }
            }
        }
    }
    dw
}

/// Max pooling ignores padded positions; average pooling counts them as
/// zeros and divides by the whole window (PyTorch's defaults).
pub fn pool2d<T: Real>(
    kind: PoolKind,
    x: &[T],
    dx: &[usize],
    out: &[usize],
    window: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
) -> Vec<T> {
    let (nc, h, wd) = (dx[0] * dx[1], dx[2], dx[3]);
    let (oh, ow) = (out[2], out[3]);
    let area = T::from_f64((window[0] * window[1]) as f64);
    let mut y = Vec::with_capacity(nc * oh * ow);
    for p in 0..nc {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best = T::from_f64(f64::NEG_INFINITY);
                let mut sum = T::zero();
                for i in 0..window[0] {
                    let Some(iy) = source(oy, i, stride[0], pad[0], h) else {
                        continue;
                    };
                    for j in 0..window[1] {
                        let Some(ix) = source(ox, j, stride[1], pad[1], wd) else {
                            continue;
                        };
                        let v = x[(p * h + iy) * wd + ix];
                        if v > best {
                            best = v;
                        }
                        sum = sum + v;
                    }
                }
                y.push(if kind == PoolKind::Max {
                    best
                } else {
                    sum / area
                });
            }
        }
    }
    y
}

/// Max pooling sends each gradient to the first maximum of its window.
#[allow(clippy::too_many_arguments)]
pub fn pool2d_grad<T: Real>(
    kind: PoolKind,
    x: &[T],
    dx: &[usize],
    dy: &[T],
    ddy: &[usize],
    window: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
) -> Vec<T> {
    let (nc, h, wd) = (dx[0] * dx[1], dx[2], dx[3]);
    let (oh, ow) = (ddy[2], ddy[3]);
    let area = T::from_f64((window[0] * window[1]) as f64);
    let mut grad = vec![T::zero(); x.len()];
    for p in 0..nc {
        for oy in 0..oh {
            for ox in 0..ow {
                let g = dy[(p * oh + oy) * ow + ox];
                let mut best: Option<(T, usize)> = None;
                for i in 0..window[0] {
                    let Some(iy) = source(oy, i, stride[0], pad[0], h) else {
                        continue;
                    };
                    for j in 0..window[1] {
                        let Some(ix) = source(ox, j, stride[1], pad[1], wd) else {
                            continue;
                        };
                        let at = (p * h + iy) * wd + ix;
                        match kind {
                            PoolKind::Avg => grad[at] = grad[at] + g / area,
                            PoolKind::Max => {
                                if best.is_none_or(|(b, _)| x[at] > b) {
                                    best = Some((x[at], at));
                                }
                            }
                        }
                    }
                }
                if let Some((_, at)) = best {
                    grad[at] = grad[at] + g;
                }
            }
        }
    }
    grad
}

pub fn concat<T: Real>(parts: &[(&[T], Vec<usize>)], axis: usize, out: &[usize]) -> Vec<T> {
    let outer: usize = out[..axis].iter().product();
    let inner: usize = out[axis + 1..].iter().product();
    let mut y = Vec::with_capacity(out.iter().product());
    for o in 0..outer {
        for (x, dims) in parts {
            let chunk = dims[axis] * inner;
            y.extend_from_slice(&x[o * chunk..(o + 1) * chunk]);
        }
    }
    y
}

pub fn slice<T: Real>(x: &[T], dims: &[usize], axis: usize, start: usize, out: &[usize]) -> Vec<T> {
    let outer: usize = dims[..axis].iter().product();
    let inner: usize = dims[axis + 1..].iter().product();
    let len = out[axis];
    let mut y = Vec::with_capacity(out.iter().product());
    for o in 0..outer {
        let base = (o * dims[axis] + start) * inner;
        y.extend_from_slice(&x[base..base + len * inner]);
    }
    y
}
