"""pyserial URL handlers of pollsim (``pollsim://``), found through ``serial.protocol_handler_packages``.

Importing :mod:`pollsim` adds this package to that list, so that after ``import pollsim`` any
pyserial user can open an emulated device with ``serial.serial_for_url("pollsim://dre?...")``.
"""
