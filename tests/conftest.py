pytest_plugins = ["conftest_emulator", "conftest_operate"]
