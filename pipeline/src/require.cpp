// placeholder until the file is written (this session)
