"""The skeleton tables: a tree rooted at the Hip, and left/right pairs that really mirror."""

from lifter.skeleton import (
    BONES,
    JOINT_NAMES,
    LEFT_JOINTS,
    MIRROR_JOINTS,
    PARENTS,
    RIGHT_JOINTS,
    ROOT,
    SYMMETRIC_BONES,
)


def test_parents_form_a_tree_rooted_at_the_hip():
    assert PARENTS[ROOT] == -1 and JOINT_NAMES[ROOT] == "Hip"
    for joint in range(len(JOINT_NAMES)):
        seen, j = set(), joint
        while j != ROOT:
            assert j not in seen, f"cycle through {JOINT_NAMES[j]}"
            seen.add(j)
            j = PARENTS[j]
    assert len(BONES) == len(JOINT_NAMES) - 1


def test_left_right_names_match():
    for left, right in zip(LEFT_JOINTS, RIGHT_JOINTS):
        assert JOINT_NAMES[left] == "L" + JOINT_NAMES[right][1:]


def test_symmetric_bones_are_bones_and_mirror_each_other():
    mirror = {**dict(zip(LEFT_JOINTS, RIGHT_JOINTS)), **dict(zip(RIGHT_JOINTS, LEFT_JOINTS))}
    for left_bone, right_bone in SYMMETRIC_BONES:
        assert left_bone in BONES and right_bone in BONES
        assert tuple(mirror.get(j, j) for j in left_bone) == right_bone


def test_mirror_joints_swap_left_and_right_by_name_and_keep_the_middle():
    for joint, image in enumerate(MIRROR_JOINTS):
        name = JOINT_NAMES[joint]
        swapped = {"L": "R", "R": "L"}[name[0]] + name[1:] if joint in LEFT_JOINTS + RIGHT_JOINTS else name
        assert JOINT_NAMES[image] == swapped
    assert sorted(MIRROR_JOINTS) == list(range(len(JOINT_NAMES)))
