-- revert user_avatars
DROP TABLE user_avatars;
