//! Every op, table entry and sink reads back; malformed text is refused
//! with its line named.

use super::parse_graph;
use crate::ir::Init;
use crate::ir::*;

/// A graph with one node of each primitive and each kind of table entry
/// and sink, none of which the example programs may make.
const EVERY_FORM: &str = "\
param 0 conv.weight : [4, 3, 3, 3] init he(0.01) decay
param 1 a : [2] init xavier
param 2 b : [] init lecun
param 3 c : [1] init normal(0.5)
param 4 d : [1] init uniform(0.25)
param 5 e : [1] init const(-1)
state 0 s : [4] = 1 running
state 1 conv.weight.m : [4, 3, 3, 3] = 0 optimizer
%0 = input features : [N, 3, 6, 6]
%1 = input labels : [N]
%2 = input targets : [N, 2]
%3 = param 0 : [4, 3, 3, 3]
%4 = grad_in 0 : [4, 3, 3, 3]
%5 = state 0 : [4]
%6 = scalar batchsize : []
%7 = scalar learningrate : []
%8 = scalar biascorrection1 : []
%9 = scalar biascorrection2 : []
%10 = fill -0.5 : [N, 4]
%11 = conv2d %0, %3 stride 2x2 pad 0x0 : [N, 4, 2, 2]
%12 = conv2d_input_grad %11, %3 stride 2x2 pad 0x0 : [N, 3, 6, 6]
%13 = conv2d_weight_grad %0, %11 stride 2x2 pad 0x0 : [4, 3, 3, 3]
%14 = maxpool %0 window 2x2 stride 2x2 pad 0x0 : [N, 3, 3, 3]
%15 = avgpool %0 window 3x3 stride 1x1 pad 1x1 : [N, 3, 6, 6]
%16 = maxpool_grad %0, %14 window 2x2 stride 2x2 pad 0x0 : [N, 3, 6, 6]
%17 = avgpool_grad %0, %15 window 3x3 stride 1x1 pad 1x1 : [N, 3, 6, 6]
%18 = one_hot %1 : [N, 4]
%19 = dropout_mask rate 0.25 salt 7 : [N, 4]
%20 = reshape %5 : [1, 4]
%21 = expand %20 : [N, 4]
%22 = select %18, %21, %10 : [N, 4]
%23 = concat %22, %19, %18 axis 1 : [N, 12]
%24 = slice %23 axis 1 from 4 : [N, 8]
%25 = max %24 axes 1 : [N, 1]
%26 = max %24 axes  : [N, 8]
%27 = sum %24 axes 0,1 : [1, 1]
%28 = detach %25 : [N, 1]
%29 = matmul %24^T, %24 : [8, 8]
%30 = matmul %24, %24^T : [N, N]                   # layer.inner @3..17
%31 = neg %6 : []
%32 = exp %6 : []
%33 = log %6 : []
%34 = tanh %6 : []
%35 = sigmoid %6 : []
%36 = relu %6 : []
%37 = step %6 : []
%38 = sqrt %6 : []
%39 = rsqrt %6 : []
%40 = recip %6 : []
%41 = abs %6 : []
%42 = sign %6 : []
%43 = square %6 : []
%44 = add %6, %7 : []
%45 = sub %6, %7 : []
%46 = mul %6, %7 : []
%47 = div %6, %7 : []
%48 = max %6, %7 : []
%49 = min %6, %7 : []
%50 = gt %6, %7 : []
%51 = eq %6, %7 : []
%52 = cross_sum %27 : [1, 1]
loss %51
output %22
grad conv.weight %13
update param a %44
update state s %5
";

#[test]
fn every_form_reads_back_as_printed() {
    let g = parse_graph(EVERY_FORM).unwrap();
    assert_eq!(g.nodes.len(), 53);
    assert_eq!(g.params[0].init, Init::He { slope: 0.01 });
    assert_eq!(g.states[1].kind, StateKind::Optimizer);
    let origin = g.nodes[30].origin.as_ref().unwrap();
    assert_eq!(
        (origin.layer.as_str(), origin.span.start, origin.span.end),
        ("layer.inner", 3, 17)
    );
    assert_eq!(g.nodes[26].op, Op::Max(ValueId(24), vec![]));
    assert_eq!(
        g.nodes[48].op,
        Op::Binary(BinaryOp::Max, ValueId(6), ValueId(7))
    );
    let printed = print_graph(&g, None);
    // The columns of the origin comment are the printer's; compare tokens.
    let tokens = |t: &str| t.split_whitespace().map(String::from).collect::<Vec<_>>();
    assert_eq!(tokens(&printed), tokens(EVERY_FORM));
    assert_eq!(parse_graph(&printed).unwrap(), g);
}

#[test]
fn every_unary_and_binary_op_has_a_name_that_reads_back() {
    for u in UnaryOp::ALL {
        let text = format!(
            "%0 = {} %0 : []",
            op_text(&Op::Unary(u, ValueId(0)))
                .split(' ')
                .next()
                .unwrap()
        );
        assert_eq!(
            parse_graph(&text).unwrap().nodes[0].op,
            Op::Unary(u, ValueId(0))
        );
    }
    for b in BinaryOp::ALL {
        let op = Op::Binary(b, ValueId(0), ValueId(0));
        let text = format!("%0 = {} : []", op_text(&op));
        assert_eq!(parse_graph(&text).unwrap().nodes[0].op, op);
    }
}

#[test]
fn comments_and_blank_lines_are_skipped() {
    let g = parse_graph("; entry predict\n\n%0 = input features : [N, 2]\n  ; more\noutput %0\n")
        .unwrap();
    assert_eq!(g.nodes.len(), 1);
    assert_eq!(g.sinks, vec![Sink::Output(ValueId(0))]);
}

#[test]
fn malformed_lines_are_refused_with_their_line() {
    let cases = [
        ("%1 = input features : [N, 2]", 1, "should be `%0`"),
        ("%0 = input features", 1, "`: SHAPE`"),
        ("%0 = frobnicate %0 : []", 1, "unknown op `frobnicate`"),
        ("%0 = input features : [N, 2] extra", 1, "unexpected"),
        (
            "%0 = input features : [N, 2]\ngrad w %0",
            2,
            "no parameter is named `w`",
        ),
        ("%0 = matmul %0 %0 : []", 1, "expected `,`"),
        ("%0 = conv2d %0, %0 stride 2 pad 0x0 : []", 1, "not a pair"),
        ("%0 = fill 1 : []   # layer", 1, "@START..END"),
        (
            "param 1 w : [2] init xavier",
            1,
            "parameter 1 should be parameter 0",
        ),
        ("param 0 w : [2] init glorot", 1, "unknown initialiser"),
        ("state 0 s : [2] = 0 forever", 1, "unknown state kind"),
        ("frobnicate %0", 1, "starts no line"),
    ];
    for (text, line, message) in cases {
        let e = parse_graph(text).expect_err(text);
        assert_eq!(e.line, line, "{text}: {e}");
        assert!(e.message.contains(message), "{text}: {e}");
    }
}

#[test]
fn a_graph_the_builders_make_reads_back_with_its_origins() {
    let mut g = Graph {
        origin: Some(Origin {
            layer: "dense1".into(),
            span: crate::syntax::Span::new(4, 9),
        }),
        ..Graph::default()
    };
    let x = g.input(InputKind::Features, Shape::batched(&[3]));
    let w = g.add_param(ParamInfo {
        name: "dense1.weight".into(),
        shape: vec![2, 3],
        init: Init::Xavier,
        decay: true,
    });
    let y = g.matmul(x, w, false, true);
    g.origin = None;
    let m = g.mean(y, &[0, 1]);
    let l = g.reshape(m, Shape::scalar());
    g.sinks.extend([Sink::Output(y), Sink::Loss(l)]);
    let source = "0123456789\n";
    assert_eq!(parse_graph(&print_graph(&g, Some(source))).unwrap(), g);
    assert_eq!(parse_graph(&print_graph(&g, None)).unwrap(), g);
}

/// Each primitive's number, by a match with no catch-all: a new primitive
/// stops this compiling until it is numbered (and [`VARIANTS`] raised), and
/// then [`every_primitive_has_a_text_form_in_the_test`] fails until
/// [`EVERY_FORM`] shows it, so that its text is known to read back.
fn variant(op: &Op) -> usize {
    match op {
        Op::Input(_) => 0,
        Op::Param(_) => 1,
        Op::State(_) => 2,
        Op::GradIn(_) => 3,
        Op::Scalar(_) => 4,
        Op::Fill(_) => 5,
        Op::Unary(..) => 6,
        Op::Binary(..) => 7,
        Op::Select(..) => 8,
        Op::Reshape(_) => 9,
        Op::Expand(_) => 10,
        Op::Sum(..) => 11,
        Op::Max(..) => 12,
        Op::MatMul { .. } => 13,
        Op::Conv2d { .. } => 14,
        Op::Conv2dInputGrad { .. } => 15,
        Op::Conv2dWeightGrad { .. } => 16,
        Op::Pool2d { .. } => 17,
        Op::Pool2dGrad { .. } => 18,
        Op::Concat(..) => 19,
        Op::Slice { .. } => 20,
        Op::OneHot(_) => 21,
        Op::DropoutMask { .. } => 22,
        Op::Detach(_) => 23,
        Op::CrossSum(_) => 24,
    }
}

const VARIANTS: usize = 25;

#[test]
fn every_primitive_has_a_text_form_in_the_test() {
    let g = parse_graph(EVERY_FORM).unwrap();
    let mut seen = [false; VARIANTS];
    for n in &g.nodes {
        seen[variant(&n.op)] = true;
    }
    let missing: Vec<usize> = (0..VARIANTS).filter(|&v| !seen[v]).collect();
    assert!(
        missing.is_empty(),
        "primitives {missing:?} are not in EVERY_FORM"
    );
}
