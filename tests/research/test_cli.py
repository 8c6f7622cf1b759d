"""The researcher's commands, run through the entry point as a user types them: they are
wired with the settings and the registry hooks, read a real data folder and write what
their help says, with no broker and no database."""
import pandas as pd
from typer.testing import CliRunner

from research.cli import research
from tft_forecast import cli

runner = CliRunner()


def test_the_entry_point_offers_the_service_and_the_research_commands():
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    names = {c.name or c.callback.__name__.replace("_", "-") for c in cli.registered_commands}
    for name in ("worker", "up", "replay", "promote", "rollback",
                 *(c.name or c.callback.__name__.replace("_", "-") for c in research.registered_commands)):
        assert name in names
        assert runner.invoke(cli, [name, "--help"]).exit_code == 0, name


def test_a_backtest_of_the_default_model_is_scored_for_skill(data_dir, tmp_path):
    csv = tmp_path / "bt.csv"
    result = runner.invoke(cli, ["backtest", "--data-dir", str(data_dir), "--symbols", "SPY",
                                 "--start", "2023-11-01", "--out", str(csv)])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(csv, parse_dates=["date"])
    assert set(rows["symbol"]) == {"SPY"} and rows["date"].min() >= pd.Timestamp("2023-11-01")
    result = runner.invoke(cli, ["skill", str(csv), "--data-dir", str(data_dir), "--out", str(tmp_path / "skill")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "skill" / "skill.csv")
    assert list(table["horizon"]) == sorted(rows["horizon"].unique())
    assert (tmp_path / "skill" / "reliability.png").stat().st_size > 0


def test_a_model_without_a_regime_book_is_refused_with_a_message(data_dir, tmp_path):
    model = tmp_path / "bare.pt"
    model.write_bytes(b"")
    result = runner.invoke(cli, ["regimes", "--data-dir", str(data_dir), "--model", str(model),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "has no regime book" in " ".join(result.output.replace("│", " ").split())  # unwrapped from rich's box
