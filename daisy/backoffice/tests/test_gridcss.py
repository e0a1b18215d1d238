from daisy.backoffice import gridcss


def test_the_grid_stylesheet_is_the_generator_s_output():
    assert gridcss.PATH.read_text(encoding="utf-8") == gridcss.render(), (
        "Run python -m daisy.backoffice.gridcss"
    )
