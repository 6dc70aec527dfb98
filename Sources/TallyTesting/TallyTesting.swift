public enum TallyTestingModule {}
