"""plot.animate: the frames it writes (counted back with Pillow), the energy ledger beside the path, MP4 via ffmpeg."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import newtonopt as no  # noqa: E402
from newtonopt import _draw, plot  # noqa: E402
from newtonopt.potentials import Quadratic  # noqa: E402

Image = pytest.importorskip("PIL.Image")  # matplotlib depends on Pillow, so this never skips in practice

V2 = Quadratic([1.0, 10.0], [-1.0, 2.0], name="bowl")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def runs(n=100):
    return {"gradient descent": no.simulate(V2, no.GradientDescent(0.1), [2.0, 1.0], n),
            "heavy ball": no.simulate(V2, no.HeavyBall(0.1, 0.6), [2.0, 1.0], n)}


def frames_of(path):
    with Image.open(path) as im:
        out = []
        for k in range(im.n_frames):
            im.seek(k)
            out.append((np.asarray(im.convert("RGB")), im.info.get("duration")))
    return out


def test_a_gif_has_the_requested_frames_at_the_requested_rate(tmp_path, capsys):
    path = plot.animate(V2, runs(), tmp_path / "roll.gif", max_frames=8, fps=10, progress=True)
    frames = frames_of(path)
    assert len(frames) == 8 and all(d == 100 for _, d in frames)  # 1000 ms / 10 fps
    assert "8/8" in capsys.readouterr().err  # the forced bar counted every frame
    # Fewer recorded steps than max_frames: one frame per record (steps 0..30, every 3 → 11 records).
    short = no.simulate(V2, no.HeavyBall(0.1, 0.6), [2.0, 1.0], 30, every=3)
    assert len(frames_of(plot.animate(V2, short, tmp_path / "short.gif", max_frames=500))) == 11


def _pixel(ax, x, y, height):
    """The (row, column) of data point (x, y) of ``ax`` in an image of ``height`` rows."""
    px, py = ax.transData.transform((x, y))
    return int(round(height - py)), int(round(px))


def _near(image, rc, colour, radius=1, tol=60):
    r, c = rc
    patch = image[r - radius: r + radius + 1, c - radius: c + radius + 1].reshape(-1, 3).astype(int)
    target = np.array(matplotlib.colors.to_rgb(colour)) * 255
    return bool(np.any(np.abs(patch - target).max(axis=1) < tol))


def test_the_ledger_panel_ends_at_the_trajectorys_final_energies(tmp_path):
    """Velocity Verlet without friction on the bowl: V and K trade energy, so at the last step they sit far
    apart on the ledger's axes. The last frame's V, K, E, D lines end at the trajectory's final values (its
    recorded ledger; V also equals value_final), and the GIF's last frame has V's and K's colours there, which
    its first frame (nothing drawn yet) has not."""
    traj = no.simulate(V2, no.VelocityVerlet(0.1), [2.0, 1.0], 100)
    V_f, K_f, D_f = traj.potential_energy[-1], traj.kinetic_energy[-1], traj.dissipated[-1]
    assert V_f == pytest.approx(float(traj.value_final)) and D_f == 0.0  # no friction: nothing dissipated
    path = plot.animate(V2, {"verlet": traj}, tmp_path / "verlet.gif", max_frames=20)
    movie = _draw._Animator(V2, {"verlet": traj}, 100, ledger="verlet")
    movie.frame(100)
    ends = {line.get_label(): (line.get_xdata()[-1], line.get_ydata()[-1]) for line, _, _ in movie.ledger_lines}
    assert ends == {"potential V": (100, V_f), "kinetic K": (100, K_f), "total E = V + K": (100, V_f + K_f),
                    "dissipated D": (100, D_f)}
    first, last = frames_of(path)[0][0], frames_of(path)[-1][0]
    assert first.shape == movie.still.shape
    rv, rk = (_pixel(movie.ledger_ax, 100, y, first.shape[0]) for y in (V_f, K_f))
    assert abs(rv[0] - rk[0]) > 10  # the two ends are apart on screen: each pixel test is V's or K's own
    assert _near(last, rv, plot.PALETTE[0]) and _near(last, rk, plot.PALETTE[1])
    assert not _near(first, rv, plot.PALETTE[0]) and not _near(first, rk, plot.PALETTE[1])


def test_no_ledger_panel_and_bad_arguments(tmp_path):
    path = plot.animate(V2, runs(20), tmp_path / "plain.gif", max_frames=3, ledger=False)
    wide = frames_of(plot.animate(V2, runs(20), tmp_path / "wide.gif", max_frames=3))
    assert frames_of(path)[0][0].shape[1] < wide[0][0].shape[1]  # one panel is narrower than two
    with pytest.raises(ValueError, match="ledger"):
        plot.animate(V2, runs(20), tmp_path / "x.gif", ledger="nope")
    with pytest.raises(TypeError, match="ledger"):
        plot.animate(V2, runs(20), tmp_path / "x.gif", ledger=1)
    with pytest.raises(ValueError, match="fps"):
        plot.animate(V2, runs(20), tmp_path / "x.gif", fps=0)
    with pytest.raises(ValueError, match="record='all'"):
        plot.animate(V2, no.simulate(V2, no.GradientDescent(0.1), [2.0, 1.0], 5, record="scalars"), tmp_path / "x.gif")


def test_mp4_through_imageio_ffmpeg(tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    path = plot.animate(V2, runs(), tmp_path / "roll.mp4", max_frames=12, fps=12)
    assert path.read_bytes()[4:8] == b"ftyp"  # an MP4 container
    n_frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert n_frames == 12 and seconds == pytest.approx(1.0)


def test_mp4_without_any_ffmpeg_names_the_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    monkeypatch.setitem(plt.rcParams, "animation.ffmpeg_path", "no-such-ffmpeg-here")
    with pytest.raises(ImportError, match=r"newtonopt\[video\]"):
        plot.animate(V2, runs(20), tmp_path / "roll.mp4", max_frames=3)
