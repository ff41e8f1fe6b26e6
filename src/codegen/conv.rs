//! Convolutions and their gradients as per-sample matrix products over an
//! im2col matrix in the workspace (after the planned scratch).
//!
//! For one sample, `col[(c, i, j), (oy, ox)] = x[c, oy*s + i - p, ox*s + j - p]`
//! (0 outside the image), a `C*kh*kw x OH*OW` matrix. Then:
//! - forward: `y[b] = W[F, C*kh*kw] x col`;
//! - weight gradient: `dW += dy[b] x col^T`, over the batch;
//! - input gradient: `col = W^T x dy[b]`, scattered back (col2im) into `dx[b]`.
//!
//! A 1x1 kernel at stride 1 without padding reads the image as `col` itself.

use super::func::{Fx, R, fixed};
use super::im2col::{col2im, im2col, zero_padding};
use super::jit::CodegenError;
use super::matmul::{Product, emit_product};
use super::plan::Buf;
use crate::ir::Dim;
use cranelift_codegen::ir::{FuncRef, InstBuilder, Value};

/// The sizes of one convolution.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub f: usize,
    pub kh: usize,
    pub kw: usize,
    pub oh: usize,
    pub ow: usize,
    pub stride: [usize; 2],
    pub pad: [usize; 2],
}

impl Geometry {
    /// From the image `x` (`[N, C, H, W]`), weights (`[F, C, kh, kw]`) and output shapes.
    pub fn of(x: &Buf, w: &Buf, y: &Buf, stride: [usize; 2], pad: [usize; 2]) -> R<Geometry> {
        let dims = |b: &Buf, what: &str| -> R<Vec<Dim>> {
            if b.shape.rank() != 4 {
                return Err(CodegenError::InvalidShape(format!(
                    "{what} of shape {} is not NCHW",
                    b.shape
                )));
            }
            Ok(b.shape.0.clone())
        };
        let (xd, wd, yd) = (dims(x, "image")?, dims(w, "kernel")?, dims(y, "output")?);
        let g = Geometry {
            c: fixed(xd[1], "channels")?,
            h: fixed(xd[2], "height")?,
            w: fixed(xd[3], "width")?,
            f: fixed(wd[0], "filters")?,
            kh: fixed(wd[2], "kernel height")?,
            kw: fixed(wd[3], "kernel width")?,
            oh: fixed(yd[2], "output height")?,
            ow: fixed(yd[3], "output width")?,
            stride,
            pad,
        };
        let fits = |size: usize, k: usize, s: usize, p: usize, out: usize| {
            s > 0 && size + 2 * p >= k && (size + 2 * p - k) / s + 1 == out
        };
        if fixed(wd[1], "kernel channels")? != g.c
            || yd[1] != Dim::K(g.f)
            || xd[0] != yd[0]
            || !fits(g.h, g.kh, stride[0], pad[0], g.oh)
            || !fits(g.w, g.kw, stride[1], pad[1], g.ow)
        {
            return Err(CodegenError::InvalidShape(format!(
                "convolution of {} by {} does not give {}",
                x.shape, w.shape, y.shape
            )));
        }
        Ok(g)
    }

    /// Rows of the im2col matrix.
    pub fn rows(&self) -> usize {
        self.c * self.kh * self.kw
    }

    /// Columns of the im2col matrix (output positions).
    pub fn cols(&self) -> usize {
        self.oh * self.ow
    }

    /// Floats of workspace needed (0 when the image is its own im2col matrix).
    pub fn workspace(&self) -> usize {
        if self.is_pointwise() {
            0
        } else {
            self.rows() * self.cols()
        }
    }

    pub(super) fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == [1, 1] && self.pad == [0, 0]
    }

    pub(super) fn image(&self) -> usize {
        self.c * self.h * self.w
    }
}

/// The host's im2col and col2im (`host_im2col.rs`), where they apply: the
/// CPU has them and the kernel moves one column at a time.
fn host_routines(fx: &Fx, g: &Geometry) -> Option<[FuncRef; 2]> {
    fx.host_im2col
        .filter(|_| !g.is_pointwise() && g.stride[1] == 1)
}

/// Calls a host routine of `host_im2col.rs` on (`from`, `to`) with `g`'s sizes.
fn call_host(fx: &mut Fx, routine: FuncRef, g: &Geometry, from: Value, to: Value) {
    let sizes = [g.c, g.h, g.w, g.kh, g.kw, g.oh, g.ow, g.stride[0], g.pad[0], g.pad[1]];
    let mut args = vec![from, to];
    args.extend(sizes.map(|v| fx.iconst(v as i64)));
    fx.b.ins().call(routine, &args);
}

/// The im2col matrix of `image` in `ws`: by the host, or inline into a
/// matrix whose padding [`zero_padding`] zeroed.
fn emit_im2col(fx: &mut Fx, g: &Geometry, host: Option<[FuncRef; 2]>, image: Value, ws: Value) -> R {
    match host {
        Some([im2col_routine, _]) => {
            call_host(fx, im2col_routine, g, image, ws);
            Ok(())
        }
        None => im2col(fx, g, image, ws),
    }
}

/// Runs `body(fx, b)` for every sample `b` of the batch.
fn each_sample(fx: &mut Fx, body: impl FnOnce(&mut Fx, Value) -> R) -> R {
    let zero = fx.iconst(0);
    let n = fx.n;
    fx.for_range(zero, n, 1, body)
}

fn product(m: usize, n: usize, k: usize, ta: bool, tb: bool, accumulate: bool) -> Product {
    Product {
        m: Dim::K(m),
        n: Dim::K(n),
        k: Dim::K(k),
        ta,
        tb,
        accumulate,
        b_is_param: false,
    }
}

pub fn emit_conv(fx: &mut Fx, g: &Geometry, x: &Buf, w: &Buf, y: &Buf) -> R {
    let (px, pw, py) = (fx.ptr(x.loc)?, fx.ptr(w.loc)?, fx.ptr(y.loc)?);
    let ws = fx.workspace()?;
    let host = host_routines(fx, g);
    if !g.is_pointwise() && host.is_none() {
        zero_padding(fx, g, ws)?;
    }
    each_sample(fx, |fx, b| {
        let image = fx.offset(px, b, g.image() as i64);
        let col = if g.is_pointwise() {
            image
        } else {
            emit_im2col(fx, g, host, image, ws)?;
            ws
        };
        let out = fx.offset(py, b, (g.f * g.cols()) as i64);
        let p = product(g.f, g.cols(), g.rows(), false, false, false);
        emit_product(fx, &p, pw, col, out)
    })
}

pub fn emit_conv_weight_grad(fx: &mut Fx, g: &Geometry, x: &Buf, dy: &Buf, dw: &Buf) -> R {
    let (px, pdy, pdw) = (fx.ptr(x.loc)?, fx.ptr(dy.loc)?, fx.ptr(dw.loc)?);
    let count = fx.iconst((g.f * g.rows()) as i64);
    fx.fill(pdw, count, 0.0)?;
    let ws = fx.workspace()?;
    let host = host_routines(fx, g);
    if !g.is_pointwise() && host.is_none() {
        zero_padding(fx, g, ws)?;
    }
    each_sample(fx, |fx, b| {
        let image = fx.offset(px, b, g.image() as i64);
        let col = if g.is_pointwise() {
            image
        } else {
            emit_im2col(fx, g, host, image, ws)?;
            ws
        };
        let grad = fx.offset(pdy, b, (g.f * g.cols()) as i64);
        // dW[F, R] += dy[F, P] x col[R, P]^T
        let p = product(g.f, g.rows(), g.cols(), false, true, true);
        emit_product(fx, &p, grad, col, pdw)
    })
}

pub fn emit_conv_input_grad(fx: &mut Fx, g: &Geometry, dy: &Buf, w: &Buf, dx: &Buf) -> R {
    let (pdy, pw, pdx) = (fx.ptr(dy.loc)?, fx.ptr(w.loc)?, fx.ptr(dx.loc)?);
    let ws = fx.workspace()?;
    let host = host_routines(fx, g);
    each_sample(fx, |fx, b| {
        let image = fx.offset(pdx, b, g.image() as i64);
        let grad = fx.offset(pdy, b, (g.f * g.cols()) as i64);
        // col[R, P] = W[F, R]^T x dy[F, P]
        let p = product(g.rows(), g.cols(), g.f, true, false, false);
        if g.is_pointwise() {
            return emit_product(fx, &p, pw, grad, image);
        }
        emit_product(fx, &p, pw, grad, ws)?;
        if let Some([_, col2im_routine]) = host {
            // The routine zeroes the image before adding the columns back.
            call_host(fx, col2im_routine, g, ws, image);
            return Ok(());
        }
        let count = fx.iconst(g.image() as i64);
        fx.fill(image, count, 0.0)?;
        col2im(fx, g, ws, image)
    })
}
