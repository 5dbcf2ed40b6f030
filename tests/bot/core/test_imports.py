import subprocess
import sys

from bot.core.imports import load_when_used

STARTS_WITHOUT = "import sys, bot.cli; print(sorted({'matplotlib', 'numpy'} & {m.split('.')[0] for m in sys.modules}))"


def test_the_kaizen_command_starts_without_running_matplotlib():
    """Only a digest draws a chart: every other command (a job's fan-out, say) is spared its start-up."""
    loaded = subprocess.run([sys.executable, "-c", STARTS_WITHOUT], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "['matplotlib']"  # registered, to be run when first used; numpy not even that


def test_a_module_loaded_when_used_runs_at_its_first_attribute_access():
    figure = load_when_used("matplotlib.figure")
    assert figure.Figure(figsize=(1, 1)).get_figwidth() == 1
    assert load_when_used("matplotlib.figure") is figure is sys.modules["matplotlib.figure"]
