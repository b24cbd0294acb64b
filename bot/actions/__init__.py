"""Custom actions of the 政务服务 bot (rasa_sdk imports every module here).

Modules only define classes and functions; files (knowledge base, dialogue
texts) are read when the action server instantiates the actions at start-up,
so a missing knowledge base stops the server instead of failing per message.
"""
