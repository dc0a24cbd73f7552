#!/usr/bin/python3
"""Converts the MediaPipe FaceMesh TFJS graph model (as shipped in npm @vladmandic/human)
to ONNX.

Run with Debian's /usr/bin/python3 (python3-onnx, python3-numpy):

    /usr/bin/python3 models/toolkit/face/convert_facemesh.py \
        models/face_landmarks/source models/face_landmarks/facemesh.onnx

The TFJS graph uses a small op set (_FusedConv2D, DepthwiseConv2dNative, AddV2, Prelu,
MaxPool, Pad, Reshape, Sigmoid, Identity), so the converter maps each op by hand instead
of going through TensorFlow, which is not available here. The ONNX graph keeps the
original NHWC input and named outputs and works NCHW inside (one Transpose at the entry),
which is what ONNX Runtime's CPU kernels are fastest at. Weights shipped as float16 are
widened to float32 exactly. The output is byte-for-byte reproducible from the same input.
"""
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def load_weights(manifest: dict, bin_bytes: bytes) -> dict:
    """Decodes the weights file in manifest order into float32 / int32 numpy arrays."""
    out = {}
    offset = 0
    for group in manifest["weightsManifest"]:
        for spec in group["weights"]:
            shape = spec["shape"]
            count = int(np.prod(shape)) if shape else 1
            quant = spec.get("quantization")
            if quant is None:
                dtype = {"float32": np.float32, "int32": np.int32}[spec["dtype"]]
                nbytes = count * 4
                arr = np.frombuffer(bin_bytes, dtype=dtype, count=count, offset=offset).copy()
            elif quant["dtype"] == "float16":
                nbytes = count * 2
                arr = np.frombuffer(bin_bytes, dtype=np.float16, count=count, offset=offset).astype(np.float32)
            elif quant["dtype"] in ("uint8", "uint16"):
                qdt = np.uint8 if quant["dtype"] == "uint8" else np.uint16
                nbytes = count * np.dtype(qdt).itemsize
                q = np.frombuffer(bin_bytes, dtype=qdt, count=count, offset=offset).astype(np.float32)
                arr = (q * np.float32(quant["scale"]) + np.float32(quant["min"])).astype(np.float32)
            else:
                raise ValueError(f"unsupported quantization {quant} for {spec['name']}")
            out[spec["name"]] = arr.reshape(shape)
            offset += nbytes
    if offset != len(bin_bytes):
        raise ValueError(f"weights file has {len(bin_bytes)} bytes, manifest accounts for {offset}")
    return out


def attr(node: dict, key: str, default=None):
    a = node.get("attr", {}).get(key)
    if a is None:
        return default
    if "s" in a:
        import base64
        return base64.b64decode(a["s"]).decode()
    if "list" in a:
        lst = a["list"]
        if "i" in lst:
            return [int(v) for v in lst["i"]]
        if "s" in lst:
            import base64
            return [base64.b64decode(v).decode() for v in lst["s"]]
        return []
    if "i" in a:
        return int(a["i"])
    if "f" in a:
        return float(a["f"])
    if "b" in a:
        return bool(a["b"])
    return a


def same_pads(size: int, k: int, s: int) -> tuple:
    """TensorFlow SAME padding: the extra pixel goes at the end."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Converter:
    def __init__(self, model: dict, weights: dict):
        self.model = model
        self.weights = weights
        self.nodes = []
        self.inits = []
        self.shapes = {}  # tensor name -> (C, H, W) in NCHW terms, batch excluded
        self.names = {}  # TF tensor name -> ONNX tensor name
        self.counter = 0

    def fresh(self, base: str) -> str:
        self.counter += 1
        return f"{base}__{self.counter}"

    def init(self, name: str, arr: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def src(self, tf_input: str) -> str:
        name = tf_input.split(":")[0]
        if name not in self.names:
            raise KeyError(f"input {tf_input} used before it is defined")
        return self.names[name]

    def conv(self, node, x, w_oihw, bias, strides, padding, group=1):
        c, h, wd = self.shapes[x]
        o, _, kh, kw = w_oihw.shape
        if padding == "SAME":
            pt, pb = same_pads(h, kh, strides[0])
            pl, pr = same_pads(wd, kw, strides[1])
        elif padding == "VALID":
            pt = pb = pl = pr = 0
        else:
            raise ValueError(f"{node['name']}: padding {padding} not supported")
        oh = (h + pt + pb - kh) // strides[0] + 1
        ow = (wd + pl + pr - kw) // strides[1] + 1
        base = node["name"]
        inputs = [x, self.init(base + "/W", w_oihw.astype(np.float32))]
        if bias is not None:
            inputs.append(self.init(base + "/B", bias.astype(np.float32)))
        out = self.fresh(base)
        self.nodes.append(helper.make_node(
            "Conv", inputs, [out], name=base, kernel_shape=[kh, kw], strides=list(strides),
            pads=[pt, pl, pb, pr], group=group))
        self.shapes[out] = (o, oh, ow)
        return out

    def prelu(self, name, x, alpha):
        c = self.shapes[x][0]
        slope = alpha.reshape(-1).astype(np.float32)
        if slope.size != c:
            raise ValueError(f"{name}: PReLU slope has {slope.size} values for {c} channels")
        out = self.fresh(name)
        self.nodes.append(helper.make_node("PRelu", [x, self.init(name + "/slope", slope.reshape(c, 1, 1))], [out], name=name))
        self.shapes[out] = self.shapes[x]
        return out

    def const(self, tf_input: str) -> np.ndarray:
        name = tf_input.split(":")[0]
        if name not in self.weights:
            raise KeyError(f"constant {name} not in weights")
        return self.weights[name]

    def run(self):
        topo = self.model["modelTopology"]["node"]
        sig = self.model["signature"]
        (in_key, in_spec), = sig["inputs"].items()
        in_tf = in_spec["name"].split(":")[0]
        dims = [int(d["size"]) for d in in_spec["tensorShape"]["dim"]]
        _, h, w, c = dims
        nchw = "input_nchw"
        self.nodes.append(helper.make_node("Transpose", [in_key], [nchw], name="to_nchw", perm=[0, 3, 1, 2]))
        self.names[in_tf] = nchw
        self.shapes[nchw] = (c, h, w)

        pending = [n for n in topo if n["op"] not in ("Const", "Placeholder")]
        # The node list is topological in practice; loop until all are placed to be safe.
        while pending:
            progressed = False
            rest = []
            for node in pending:
                deps = [i.split(":")[0] for i in node.get("input", []) if not i.startswith("^")]
                if all(d in self.names or d in self.weights for d in deps):
                    self.emit(node)
                    progressed = True
                else:
                    rest.append(node)
            if not progressed:
                raise ValueError(f"cannot order nodes: {[n['name'] for n in rest][:5]}")
            pending = rest

        outputs = []
        for key, spec in sig["outputs"].items():
            tf_name = spec["name"].split(":")[0]
            src = self.names[tf_name]
            self.nodes.append(helper.make_node("Identity", [src], [key], name=f"out_{key}"))
            size = int(spec["tensorShape"]["dim"][1]["size"])
            outputs.append(helper.make_tensor_value_info(key, TensorProto.FLOAT, ["batch", size]))
        inputs = [helper.make_tensor_value_info(in_key, TensorProto.FLOAT, ["batch", h, w, c])]
        graph = helper.make_graph(self.nodes, "facemesh", inputs, outputs, self.inits)
        m = helper.make_model(graph, producer_name="deepwatch models/toolkit/face/convert_facemesh.py",
                              opset_imports=[helper.make_opsetid("", OPSET)])
        m.ir_version = 7
        onnx.checker.check_model(m)
        return m

    def emit(self, node):
        op = node["op"]
        name = node["name"]
        ins = [i for i in node.get("input", []) if not i.startswith("^")]
        if op == "_FusedConv2D":
            fused = attr(node, "fused_ops", [])
            if attr(node, "data_format", "NHWC") != "NHWC" or attr(node, "dilations", [1, 1, 1, 1]) != [1, 1, 1, 1]:
                raise ValueError(f"{name}: only NHWC, undilated convolutions are supported")
            if not fused or fused[0] != "BiasAdd" or len(fused) > 2 or (len(fused) == 2 and fused[1] not in ("Prelu", "Relu")):
                raise ValueError(f"{name}: fused ops {fused} not supported")
            w = self.const(ins[1]).transpose(3, 2, 0, 1)  # HWIO -> OIHW
            b = self.const(ins[2])
            s = attr(node, "strides")
            out = self.conv(node, self.src(ins[0]), w, b, (s[1], s[2]), attr(node, "padding"))
            if len(fused) == 2 and fused[1] == "Prelu":
                out = self.prelu(name + "/prelu", out, self.const(ins[3]))
            elif len(fused) == 2:
                r = self.fresh(name + "/relu")
                self.nodes.append(helper.make_node("Relu", [out], [r], name=name + "/relu"))
                self.shapes[r] = self.shapes[out]
                out = r
        elif op == "DepthwiseConv2dNative":
            k = self.const(ins[1])  # H, W, C, M
            kh, kw, c, mult = k.shape
            w = k.transpose(2, 3, 0, 1).reshape(c * mult, 1, kh, kw)
            s = attr(node, "strides")
            out = self.conv(node, self.src(ins[0]), w, None, (s[1], s[2]), attr(node, "padding"), group=c)
        elif op == "AddV2" or op == "Add":
            a, b = self.src(ins[0]), self.src(ins[1])
            if self.shapes[a] != self.shapes[b]:
                raise ValueError(f"{name}: add of {self.shapes[a]} and {self.shapes[b]}")
            out = self.fresh(name)
            self.nodes.append(helper.make_node("Add", [a, b], [out], name=name))
            self.shapes[out] = self.shapes[a]
        elif op == "Prelu":
            out = self.prelu(name, self.src(ins[0]), self.const(ins[1]))
        elif op == "MaxPool":
            x = self.src(ins[0])
            k, s = attr(node, "ksize"), attr(node, "strides")
            if attr(node, "padding") != "VALID":
                raise ValueError(f"{name}: only VALID max pooling is supported")
            c, h, w = self.shapes[x]
            out = self.fresh(name)
            self.nodes.append(helper.make_node("MaxPool", [x], [out], name=name, kernel_shape=[k[1], k[2]], strides=[s[1], s[2]]))
            self.shapes[out] = (c, (h - k[1]) // s[1] + 1, (w - k[2]) // s[2] + 1)
        elif op == "Pad":
            x = self.src(ins[0])
            p = self.const(ins[1]).astype(np.int64)  # NHWC rows of (before, after)
            order = [0, 3, 1, 2]
            pads = [int(p[i][0]) for i in order] + [int(p[i][1]) for i in order]
            c, h, w = self.shapes[x]
            out = self.fresh(name)
            self.nodes.append(helper.make_node("Pad", [x, self.init(name + "/pads", np.array(pads, dtype=np.int64))], [out], name=name, mode="constant"))
            self.shapes[out] = (c + pads[1] + pads[5], h + pads[2] + pads[6], w + pads[3] + pads[7])
        elif op == "Sigmoid":
            x = self.src(ins[0])
            out = self.fresh(name)
            self.nodes.append(helper.make_node("Sigmoid", [x], [out], name=name))
            self.shapes[out] = self.shapes[x]
        elif op == "Reshape":
            x = self.src(ins[0])
            c, h, w = self.shapes[x]
            # NCHW and NHWC flatten alike only when the plane is 1x1, which it is for these heads.
            if (h, w) != (1, 1):
                raise ValueError(f"{name}: reshape of a {h}x{w} plane would reorder NHWC data")
            target = self.const(ins[1]).astype(np.int64)
            out = self.fresh(name)
            self.nodes.append(helper.make_node("Reshape", [x, self.init(name + "/shape", target)], [out], name=name))
            self.shapes[out] = (int(np.prod(target[1:])), 1, 1)
        elif op == "Identity":
            self.names[name] = self.src(ins[0])
            return
        else:
            raise ValueError(f"{name}: op {op} is not supported by this converter")
        self.names[name] = out


def convert(src_dir: Path) -> onnx.ModelProto:
    manifest = json.loads((src_dir / "facemesh.json").read_text())
    paths = [p for g in manifest["weightsManifest"] for p in g["paths"]]
    bin_bytes = b"".join((src_dir / p).read_bytes() for p in paths)
    weights = load_weights(manifest, bin_bytes)
    return Converter(manifest, weights).run()


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: convert_facemesh.py SOURCE_DIR OUT.onnx\n")
        return 2
    model = convert(Path(argv[1]))
    Path(argv[2]).write_bytes(model.SerializeToString())
    print(json.dumps({"out": argv[2], "nodes": len(model.graph.node), "initializers": len(model.graph.initializer)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
