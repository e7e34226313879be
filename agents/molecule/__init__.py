"""molecule"""
