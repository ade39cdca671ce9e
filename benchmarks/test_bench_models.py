"""The upsampling calls real models make, at the shapes they make them.

Each case is one call of a public model's code, at the shape that model runs
it (batch 1 unless the model's own setting says otherwise), with where it
comes from in ``source``: the model, the layer, and the public code or paper
that fixes the operation and the shape.  Shapes follow from each model's
published configuration (channels, input size, strides), worked out in the
comment beside each case.  Same scheme as ``test_bench_other_ops.py``
(``calls.py``): numpy beside torch and the floor, forward and backward (the
numpy backend's residual path against ``torch.autograd.grad``), one thread
each, the two checked to agree outside the timing.  The groups are prefixed
``model:`` in the summary table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from calls import Arrays, Case, suite


def _normal(*shape: int) -> Any:
    return lambda rng: {"x": rng.standard_normal(shape, dtype=np.float32)}


def _resize(name: str, shape: tuple[int, ...], params: dict[str, Any], source: str, floor: float | None = None) -> Case:
    """A case of ``F.interpolate(x, **params)``."""
    return Case(
        f"model: {name}",
        shape,
        _normal(*shape),
        lambda nb, a: nb.interpolate(a["x"], **params),
        lambda t: F.interpolate(t["x"], **params),
        "interpolate",
        lambda a: (a["x"], dict(params)),
        floor_target=floor,
        source=source,
    )


def _conv_transpose(
    name: str, shape: tuple[int, ...], weight: tuple[int, ...], params: dict[str, Any], source: str
) -> Case:
    """A case of ``F.conv_transpose{n}d(x, weight, bias, **params)``, bias included (the layers have one)."""

    def inputs(rng: np.random.Generator) -> Arrays:
        fan_in = weight[0] * int(np.prod(weight[2:])) // int(np.prod(params.get("stride", 1)) or 1)
        scale = np.float32(1 / np.sqrt(max(1, fan_in)))
        return {
            "x": rng.standard_normal(shape, dtype=np.float32),
            "weight": rng.standard_normal(weight, dtype=np.float32) * scale,
            "bias": rng.standard_normal(weight[1], dtype=np.float32),
        }

    rank = len(weight) - 2
    torch_op = {2: F.conv_transpose2d, 3: F.conv_transpose3d}[rank]
    return Case(
        f"model: {name}",
        shape,
        inputs,
        lambda nb, a: nb.conv_transpose(a["x"], a["weight"], a["bias"], **params),
        lambda t: torch_op(t["x"], t["weight"], t["bias"], **params),
        "conv_transpose",
        lambda a: (a["x"], {"weight": a["weight"], "bias": a["bias"], **params}),
        (("x", "x"), ("weight", "weight"), ("bias", "bias")),
        source=source,
    )


def _segnet_unpool_inputs(rng: np.random.Generator) -> Arrays:
    x = rng.standard_normal((1, 64, 360, 480), dtype=np.float32)
    values, indices = F.max_pool2d(torch.from_numpy(x), 2, 2, return_indices=True)
    return {"values": values.numpy(), "indices": indices.numpy()}


NEAREST = {"scale_factor": 2.0, "mode": "nearest"}

CASES = [
    # SD v1.x VAE (AutoencoderKL, block_out_channels 128/256/512/512): a 512x512
    # image's latent is 64x64; the decoder's first up block runs at 512 channels.
    _resize(
        "SD VAE decoder Upsample2D nearest 2x",
        (1, 512, 64, 64),
        NEAREST,
        "Stable Diffusion v1 VAE decoder.up_blocks[0].upsamplers[0] (diffusers Upsample2D: "
        "F.interpolate(scale_factor=2.0, mode='nearest')), 512x512 image",
        2.0,
    ),
    # SD v1.x UNet (block_out_channels 320/640/1280/1280): the 64x64 latent is
    # 8x8 at the bottom; classifier-free guidance runs batch 2.
    _resize(
        "SD UNet Upsample2D nearest 2x",
        (2, 1280, 8, 8),
        NEAREST,
        "Stable Diffusion v1 UNet2DConditionModel.up_blocks[0].upsamplers[0] (diffusers Upsample2D), "
        "512x512 image, guidance batch 2",
        2.0,
    ),
    # YOLOv5s (width_multiple 0.5): head layer 10 is Conv [512, 1, 1] -> 256
    # channels on P5, 640/32 = 20; layer 11 is nn.Upsample [None, 2, 'nearest'].
    _resize(
        "YOLOv5s neck nn.Upsample nearest 2x",
        (1, 256, 20, 20),
        NEAREST,
        "ultralytics/yolov5 models/yolov5s.yaml head layer 11, nn.Upsample(None, 2, 'nearest'), 640x640 input",
        2.0,
    ),
    # torchvision FPN, 256 channels; Mask R-CNN's transform resizes a 4:3
    # COCO image to 800x1066, padded to 800x1088: P5 is 25x34, P4 50x68.
    _resize(
        "FPN top-down nearest to size",
        (1, 256, 25, 34),
        {"size": (50, 68), "mode": "nearest"},
        "torchvision.ops.FeaturePyramidNetwork.forward, F.interpolate(last_inner, size=feat_shape, "
        "mode='nearest'), maskrcnn_resnet50_fpn on an 800x1088 batch",
        2.0,
    ),
    # Real-ESRGAN RRDBNet x4 (num_feat 64): the upsampling tail is
    # conv_up1(F.interpolate(feat, scale_factor=2, mode='nearest')); training
    # gt_size 256 gives 64x64 LR patches.
    _resize(
        "Real-ESRGAN RRDBNet nearest 2x",
        (1, 64, 64, 64),
        NEAREST,
        "xinntao/BasicSR basicsr/archs/rrdbnet_arch.py RRDBNet.forward (Real-ESRGAN x4plus), "
        "LR 64x64 (gt_size 256)",
        2.0,
    ),
    # torchvision deeplabv3_resnet50 (output stride 8, 21 VOC classes) on its
    # reference 520x520 eval crop: logits 65x65, upsampled to the input size.
    _resize(
        "DeepLabV3 logits bilinear to input size",
        (1, 21, 65, 65),
        {"size": (520, 520), "mode": "bilinear", "align_corners": False},
        "torchvision.models.segmentation._utils._SimpleSegmentationModel.forward, "
        "F.interpolate(x, size=input_shape, mode='bilinear', align_corners=False), deeplabv3_resnet50, 520x520",
    ),
    # SegFormer-B0 (decoder_hidden_size 256): each stage's MLP output is
    # upsampled to stage 1's size; a 512x512 input gives 16x16 -> 128x128.
    _resize(
        "SegFormer-B0 decode head bilinear",
        (1, 256, 16, 16),
        {"size": (128, 128), "mode": "bilinear", "align_corners": False},
        "huggingface/transformers SegformerDecodeHead.forward, nn.functional.interpolate(size=stage 1, "
        "mode='bilinear', align_corners=False), nvidia/mit-b0 config, 512x512",
    ),
    # U-Net (Ronneberger et al. 2015, Fig. 1): 28x28x1024 -> up-conv 2x2 -> 56x56x512.
    _conv_transpose(
        "U-Net up-conv ConvTranspose2d(1024, 512, 2, 2)",
        (1, 1024, 28, 28),
        (1024, 512, 2, 2),
        {"stride": 2},
        "U-Net (Ronneberger et al., MICCAI 2015, Fig. 1) first up-conv; milesial/Pytorch-UNet Up: "
        "nn.ConvTranspose2d(in, in // 2, kernel_size=2, stride=2)",
    ),
    # DCGAN (pytorch/examples dcgan/main.py, ngf 64, batchSize 64): the
    # generator's second layer is ConvTranspose2d(ngf*8, ngf*4, 4, 2, 1, bias=False) on 4x4.
    Case(
        "model: DCGAN generator ConvTranspose2d(512, 256, 4, 2, 1)",
        (64, 512, 4, 4),
        lambda rng: {
            "x": rng.standard_normal((64, 512, 4, 4), dtype=np.float32),
            "weight": rng.standard_normal((512, 256, 4, 4), dtype=np.float32) / np.float32(45),
        },
        lambda nb, a: nb.conv_transpose(a["x"], a["weight"], None, stride=2, padding=1),
        lambda t: F.conv_transpose2d(t["x"], t["weight"], None, stride=2, padding=1),
        "conv_transpose",
        lambda a: (a["x"], {"weight": a["weight"], "stride": 2, "padding": 1}),
        (("x", "x"), ("weight", "weight")),
        source="pytorch/examples dcgan/main.py Generator.main[3], nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, "
        "bias=False), ngf 64, batchSize 64",
    ),
    # 3-D U-Net (Cicek et al. 2016, Fig. 1): a 132x132x116 tile through four
    # unpadded levels leaves 9x9x7 at the bottom (512 channels); the first
    # up-convolution (2x2x2, stride 2) gives 18x18x14.
    _conv_transpose(
        "3-D U-Net up-conv ConvTranspose3d(512, 512, 2, 2)",
        (1, 512, 9, 9, 7),
        (512, 512, 2, 2, 2),
        {"stride": 2},
        "3D U-Net (Cicek et al., MICCAI 2016, Fig. 1) first up-convolution, 132x132x116 input tile",
    ),
    # SegNet (Badrinarayanan et al. 2017) on CamVid 360x480: the encoder's first
    # 2x2 pool keeps its indices; the decoder's last upsampling unpools them.
    Case(
        "model: SegNet encoder max_pool2d 2x2 + indices",
        (1, 64, 360, 480),
        _normal(1, 64, 360, 480),
        lambda nb, a: nb.max_pool(a["x"], (2, 2)),
        lambda t: F.max_pool2d(t["x"], 2, 2, return_indices=True),
        "max_pool",
        lambda a: (a["x"], {"kernel_size": (2, 2)}),
        source="SegNet (Badrinarayanan et al., TPAMI 2017) encoder pool 1, "
        "nn.MaxPool2d(2, 2, return_indices=True), CamVid 360x480",
    ),
    Case(
        "model: SegNet decoder max_unpool2d 2x2",
        (1, 64, 180, 240),
        _segnet_unpool_inputs,
        lambda nb, a: nb.max_unpool(a["values"], a["indices"], (2, 2)),
        lambda t: F.max_unpool2d(t["values"], t["indices"], 2),
        "max_unpool",
        lambda a: (a["values"], {"indices": a["indices"], "kernel_size": (2, 2)}),
        (("values", "x"),),
        floor_target=2.0,
        source="SegNet (Badrinarayanan et al., TPAMI 2017) decoder upsampling 1, nn.MaxUnpool2d(2, 2), "
        "CamVid 360x480",
    ),
    # EDSR x2 (n_feats 256): the upsampler is conv(n_feats, 4 * n_feats, 3)
    # then nn.PixelShuffle(2); training patches are 96 (LR 48x48).
    Case(
        "model: EDSR x2 upsampler PixelShuffle(2)",
        (1, 1024, 48, 48),
        _normal(1, 1024, 48, 48),
        lambda nb, a: nb.pixel_shuffle(a["x"], 2),
        lambda t: F.pixel_shuffle(t["x"], 2),
        "pixel_shuffle",
        lambda a: (a["x"], {"upscale_factor": 2}),
        floor_target=2.0,
        source="sanghyun-son/EDSR-PyTorch src/model/common.py Upsampler (EDSR, n_feats 256, scale 2), "
        "nn.PixelShuffle(2), patch_size 96",
    ),
]


test_model_call, test_model_call_backward = suite(CASES)
