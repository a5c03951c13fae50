"""The YOLO pose network on one image: people's boxes and COCO-17 keypoints in its pixels.

:func:`load_posenet` gives a callable ``net(image, imgsz) -> Detections``. An OpenVINO
export (what hot-pose makes and caches on a CPU) runs straight on OpenVINO's runtime
(:class:`OpenVinoPose`): the same letterbox, decoding and non-maximum suppression as
Ultralytics' predictor, without its per-call overhead and without the torchvision import
its first call pays (about 4 s on the 2-core CPU). Its compiled form is cached by OpenVINO
(``CACHE_DIR``), so a warm start does not compile again. Everything else (``.pt`` weights,
ONNX, CUDA) goes through Ultralytics (:class:`UltralyticsPose`).

Both run at ``imgsz`` for the longer side, padded to a multiple of 32 (Ultralytics'
"rect" letterbox), and keep detections with a person score of at least ``conf``
(0.1, what Ultralytics' tracker mode uses, so the tracker sees the weak ones too).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotcli.errors import HotPoseError, first_line

CONF = 0.1  # the lowest person score kept (Ultralytics' track mode)
IOU = 0.7  # non-maximum suppression (Ultralytics' default)
STRIDE = 32


@dataclass
class Detections:
    """People found in one image (N of them), in that image's pixels."""

    boxes: np.ndarray  # (N, 4) xyxy
    scores: np.ndarray  # (N,) person confidence
    keypoints: np.ndarray  # (N, 17, 2) COCO-17
    keypoint_scores: np.ndarray  # (N, 17)

    def __len__(self) -> int:
        return len(self.boxes)

    def select(self, index) -> Detections:
        return Detections(self.boxes[index], self.scores[index], self.keypoints[index],
                          self.keypoint_scores[index])  # fmt: skip

    def shifted(self, dx: float, dy: float, scale: float = 1.0) -> Detections:
        """Pixels ``p`` of a window become ``p * scale + (dx, dy)`` in the frame."""
        offset = np.array([dx, dy], np.float32)
        return Detections(self.boxes * scale + np.tile(offset, 2), self.scores,
                          self.keypoints * scale + offset, self.keypoint_scores)  # fmt: skip

    @staticmethod
    def empty(joints: int = 17) -> Detections:
        z = np.zeros
        return Detections(z((0, 4), np.float32), z(0, np.float32), z((0, joints, 2), np.float32),
                          z((0, joints), np.float32))  # fmt: skip

    @staticmethod
    def concat(parts: list[Detections]) -> Detections:
        if not parts:
            return Detections.empty()
        return Detections(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                            ("boxes", "scores", "keypoints", "keypoint_scores")))  # fmt: skip


def scaled_size(width: int, height: int, imgsz: int) -> tuple[float, int, int]:
    """The letterbox's scale for a ``width`` × ``height`` image (its longer side becomes
    ``imgsz``) and the image's size after scaling, before padding."""
    r = min(imgsz / height, imgsz / width)
    return r, int(round(width * r)), int(round(height * r))


def input_size(width: int, height: int, imgsz: int) -> tuple[int, int]:
    """(w, h) the network is given for a ``width`` × ``height`` image at ``imgsz``: scaled by
    :func:`letterbox`, then padded to a multiple of 32."""
    _, nw, nh = scaled_size(width, height, imgsz)
    return nw + (-nw) % STRIDE, nh + (-nh) % STRIDE


def letterbox(image: np.ndarray, imgsz: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """(H, W, 3) BGR → (1, 3, h, w) float RGB in [0, 1], the scale and the (left, top) pad.

    The longer side becomes ``imgsz``; each side is padded (grey 114, evenly on both ends)
    up to a multiple of 32, as Ultralytics does for models that accept any size.
    """
    import cv2

    h, w = image.shape[:2]
    r, nw, nh = scaled_size(w, h, imgsz)
    pw, ph = (-nw) % STRIDE / 2, (-nh) % STRIDE / 2
    if (nw, nh) != (w, h):
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(ph - 0.1)), int(round(ph + 0.1))
    left, right = int(round(pw - 0.1)), int(round(pw + 0.1))
    image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT,
                               value=(114, 114, 114))  # fmt: skip
    # one pass in C: BGR → RGB, HWC → CHW, scaled to [0, 1] (1 ms a frame less than numpy)
    return cv2.dnn.blobFromImage(image, 1 / 255.0, swapRB=True), r, (left, top)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float = IOU) -> np.ndarray:
    """Indices of the boxes (N, 4 xyxy) kept by greedy non-maximum suppression, best first."""
    order = np.argsort(-scores, kind="stable")
    area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        x1 = np.maximum(boxes[i, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[i, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[i, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        union = area[i] + area[rest] - inter
        order = rest[inter <= iou * np.maximum(union, 1e-9)]
    return np.array(keep, dtype=int)


def decode(raw: np.ndarray, conf: float = CONF, iou: float = IOU) -> Detections:
    """The pose head's output (56, A) for one image → :class:`Detections` in input pixels.

    Rows: box centre x, y, width, height; person score; 17 × (x, y, visibility).
    """
    keep = raw[4] >= conf
    cand = raw[:, keep].T
    if not len(cand):
        return Detections.empty()
    cx, cy, w, h = cand[:, 0], cand[:, 1], cand[:, 2], cand[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    kept = nms(boxes, cand[:, 4], iou)[:300]
    kps = cand[kept, 5:].reshape(-1, 17, 3)
    return Detections(boxes[kept].astype(np.float32), cand[kept, 4].astype(np.float32),
                      kps[..., :2].astype(np.float32), kps[..., 2].astype(np.float32))  # fmt: skip


class OpenVinoPose:
    """A YOLO pose OpenVINO export run directly on OpenVINO's runtime (CPU).

    ``net(image, imgsz)`` runs one image on all the threads and waits for it. :meth:`submit`
    starts one and returns at once, so that ``streams`` images can be in flight side by
    side (:func:`hotcli.device.parallel_requests`), each on its share of the threads: the
    network compiled for that (:func:`hotcli.device.compile_on_cpu`) at once, for one
    image at a time when first needed.
    """

    def __init__(self, folder: str | os.PathLike, cache: Path | None = None,
                 streams: int = 1) -> None:  # fmt: skip
        folder = Path(folder)
        self._xml = next(iter(sorted(folder.glob("*.xml"))), None)
        if self._xml is None:
            raise HotPoseError(f"{folder} holds no OpenVINO model (*.xml)")
        self._cache, self.streams, self.path = cache, streams, folder
        self._compiled: dict[int, tuple] = {}  # streams → (compiled model, idle requests)
        self._compile(streams)

    def _compile(self, streams: int) -> tuple:
        from hotcli.device import compile_on_cpu

        if streams not in self._compiled:
            try:
                model = compile_on_cpu(self._xml, self._cache, streams)
            except Exception as exc:  # noqa: BLE001 - a broken export is the user's file
                raise HotPoseError(
                    f"cannot load pose model {self.path}: {first_line(exc)}"
                ) from None
            self._compiled[streams] = (model, [])
        return self._compiled[streams]

    def submit(self, image: np.ndarray, imgsz: int, streams: int | None = None
               ) -> Callable[[], Detections]:  # fmt: skip
        """Start the network on ``image`` at ``imgsz`` (compiled for ``streams``, by default
        :attr:`streams`); call what is returned, once, for the :class:`Detections`."""
        model, idle = self._compile(self.streams if streams is None else streams)
        blob, r, (left, top) = letterbox(image, imgsz)
        request = idle.pop() if idle else model.create_infer_request()
        request.start_async([blob])

        def result() -> Detections:
            request.wait()
            dets = decode(request.get_output_tensor(0).data[0])
            idle.append(request)
            return dets.shifted(-left / r, -top / r, 1.0 / r)

        return result

    def __call__(self, image: np.ndarray, imgsz: int) -> Detections:
        return self.submit(image, imgsz, streams=1)()

    def __str__(self) -> str:
        return str(self.path)


class UltralyticsPose:
    """Any model Ultralytics loads (``.pt``, ONNX, exports; CPU or CUDA) through its predictor."""

    def __init__(self, yolo, device: str = "cpu") -> None:
        self.yolo, self.device = yolo, device

    def __call__(self, image: np.ndarray, imgsz: int) -> Detections:
        from hotcli.pose2d.tracking import quiet_ultralytics

        with quiet_ultralytics():
            result = self.yolo.predict(image, imgsz=imgsz, device=self.device, conf=CONF,
                                       classes=[0], verbose=False)[0]  # fmt: skip
        if result.boxes is None or result.keypoints is None or not len(result.boxes):
            return Detections.empty()
        kp = result.keypoints.xy.cpu().numpy()
        kc = result.keypoints.conf
        kc = kc.cpu().numpy() if kc is not None else np.ones(kp.shape[:2], np.float32)
        return Detections(result.boxes.xyxy.cpu().numpy().astype(np.float32),
                          result.boxes.conf.cpu().numpy().astype(np.float32),
                          kp.astype(np.float32), kc.astype(np.float32))  # fmt: skip

    def __str__(self) -> str:
        return str(getattr(self.yolo, "ckpt_path", None) or self.yolo)


def load_posenet(model, device: str = "cpu", cache: Path | None = None):
    """A callable pose network from a path, a loaded Ultralytics YOLO, or a network already.

    OpenVINO folders on a CPU run directly (:class:`OpenVinoPose`); the rest via Ultralytics.
    Any other callable ``net(image, imgsz) -> Detections`` is used as it is (tests use
    stand-ins).
    """
    if isinstance(model, (OpenVinoPose, UltralyticsPose)):
        return model
    if hasattr(model, "predict"):
        return UltralyticsPose(model, device)
    if callable(model):
        return model
    path = Path(str(model))
    if path.is_dir() and path.name.endswith("_openvino_model") and device == "cpu":
        import importlib.util

        if importlib.util.find_spec("openvino") is not None:
            if cache is None:
                from hotcli.pose2d.export import compiled_cache

                cache = compiled_cache()
            from hotcli.device import parallel_requests

            return OpenVinoPose(path, cache, parallel_requests())
    from hotcli.pose2d.tracking import load_pose_model

    return UltralyticsPose(load_pose_model(model), device)
