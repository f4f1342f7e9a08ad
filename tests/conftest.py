pytest_plugins = ["conftest_emulator"]
