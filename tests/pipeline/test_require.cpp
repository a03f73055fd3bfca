// placeholder until the tests are written (this session)
