pytest_plugins = ["conftest_emulator", "conftest_operate", "fritz_tools_support"]
